-- Saved and shared scenarios: a short id stands for a scenario's canonical
-- query string, so a link can be short and still replay the same run.
CREATE TABLE runs (
  id         TEXT PRIMARY KEY,
  query      TEXT NOT NULL UNIQUE,
  title      TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
