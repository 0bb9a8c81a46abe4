DROP TABLE digest_recipients;
