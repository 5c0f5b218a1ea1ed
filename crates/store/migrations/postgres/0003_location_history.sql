-- A location's history is read from the archive by its source, newest first: an index,
-- not a scan.
CREATE INDEX archive_source_seq ON archive (scope, source, seq DESC);
