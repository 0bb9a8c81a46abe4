DROP TABLE answers;
DROP TABLE responses;
DROP TABLE invitations;
DROP TABLE interactions;
DROP TABLE surveys;
DROP TABLE api_keys;
DROP TABLE services;
DROP TABLE departments;
