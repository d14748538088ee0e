-- Lesson progress of anonymous learners. A learner is the random id in the
-- learner cookie; there is no account, so there is no learners table: an id
-- with no rows is a learner who has not started anything yet.
CREATE TABLE lesson_progress (
  learner_id     TEXT    NOT NULL,
  lesson_id      TEXT    NOT NULL,
  -- the step the learner is on, 0-based
  step           INTEGER NOT NULL DEFAULT 0 CHECK (step >= 0),
  -- the answers to the lesson's predict steps, a JSON object from the
  -- step's index to the answer as text, saved before the reveal
  predictions    TEXT    NOT NULL DEFAULT '{}',
  -- the learner's last challenge scenario, as a playground query string
  challenge      TEXT    NOT NULL DEFAULT '',
  tries          INTEGER NOT NULL DEFAULT 0 CHECK (tries >= 0),
  solved         INTEGER NOT NULL DEFAULT 0 CHECK (solved IN (0, 1)),
  solution_shown INTEGER NOT NULL DEFAULT 0 CHECK (solution_shown IN (0, 1)),
  -- orders a learner's lessons by last touch, for "continue where you
  -- left off": one more than the learner's highest when a row changes
  touched        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (learner_id, lesson_id)
);
