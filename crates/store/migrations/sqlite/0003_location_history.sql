-- A location's history is read by its source, newest first: an index, not a scan.
CREATE INDEX events_source_seq ON events (scope, source, seq);
