-- Training rooms: a trainer's room, the people who joined it, its polls and
-- their answers. The room's live state (who is connected, the run's
-- recordings) is in memory; everything that must survive a restart is here.
CREATE TABLE rooms (
  code        TEXT    PRIMARY KEY,
  -- SHA-256 of the trainer's secret (the secret itself is only in the
  -- trainer's cookie), hex
  secret_hash TEXT    NOT NULL,
  -- the room's scenario: side 0's canonical playground query, and the
  -- design of side 1 ('' for one side)
  query       TEXT    NOT NULL,
  compare     TEXT    NOT NULL DEFAULT '',
  -- the playhead as the trainer last left it
  at_us       INTEGER NOT NULL DEFAULT 0 CHECK (at_us >= 0),
  speed       REAL    NOT NULL DEFAULT 16,
  ended       INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1)),
  created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- Unix seconds of the last change; a room idle for 12 hours expires
  touched     INTEGER NOT NULL
);

CREATE TABLE room_participants (
  room      TEXT NOT NULL REFERENCES rooms (code) ON DELETE CASCADE,
  -- the random id in the participant's cookie
  id        TEXT NOT NULL,
  name      TEXT NOT NULL DEFAULT '',
  joined_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (room, id)
);

CREATE TABLE room_polls (
  room     TEXT    NOT NULL REFERENCES rooms (code) ON DELETE CASCADE,
  -- 1, 2, … in the order the trainer opened them
  id       INTEGER NOT NULL CHECK (id >= 1),
  question TEXT    NOT NULL,
  kind     TEXT    NOT NULL CHECK (kind IN ('choice', 'number')),
  -- the choices of a choice poll, a JSON array of strings
  choices  TEXT    NOT NULL DEFAULT '[]',
  -- the report key whose measured value the reveal shows ('' for none)
  metric   TEXT    NOT NULL DEFAULT '',
  state    TEXT    NOT NULL CHECK (state IN ('open', 'closed', 'revealed')),
  -- what the run measured at the reveal, a JSON array of {design, value}
  measured TEXT    NOT NULL DEFAULT '[]',
  -- a lesson's choice prediction: the option the lesson's run makes
  -- right, shown at the reveal ('' for none)
  expected TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (room, id)
);

CREATE TABLE room_answers (
  room        TEXT    NOT NULL,
  poll        INTEGER NOT NULL,
  participant TEXT    NOT NULL,
  answer      TEXT    NOT NULL,
  answered_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (room, poll, participant),
  FOREIGN KEY (room, poll) REFERENCES room_polls (room, id) ON DELETE CASCADE,
  FOREIGN KEY (room, participant) REFERENCES room_participants (room, id) ON DELETE CASCADE
);
