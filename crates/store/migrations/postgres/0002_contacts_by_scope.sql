-- Contacts belong to a scope: an exercise never reads or writes live contacts. Rows from
-- before were written without a scope; they are taken as live (where real contacts live).
ALTER TABLE contacts ADD COLUMN scope TEXT NOT NULL DEFAULT 'live';
ALTER TABLE contacts ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE contacts DROP CONSTRAINT contacts_pkey;
ALTER TABLE contacts ADD PRIMARY KEY (scope, location);
-- An erasure removes the row; none should hold an empty list, but make sure.
DELETE FROM contacts WHERE contacts = '[]'::jsonb;
