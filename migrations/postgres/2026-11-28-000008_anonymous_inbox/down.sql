DROP TABLE anonymous_inbox;
