-- Contacts belong to a scope: an exercise never reads or writes live contacts. Rows from
-- before were written without a scope; they are taken as live (where real contacts live).
-- Rows left holding an empty list were erasures that kept the row: they go now.
CREATE TABLE contacts_by_scope (
    scope TEXT NOT NULL,
    location TEXT NOT NULL,
    contacts TEXT NOT NULL,
    PRIMARY KEY (scope, location)
);

INSERT INTO contacts_by_scope (scope, location, contacts)
SELECT 'live', location, contacts FROM contacts WHERE contacts <> '[]';

DROP TABLE contacts;

ALTER TABLE contacts_by_scope RENAME TO contacts;
