package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// roomStore keeps rooms in the app's SQLite database (migration
// 0004_rooms): every change a room makes is written here before anyone is
// told of it, so a restart on the same -db finds each room, participant,
// poll and answer as it was. It speaks in the room's own terms; a later
// shared database would be another implementation of the same calls.
type roomStore struct{ db *sql.DB }

// roomRow is a room as stored, without its people and polls.
type roomRow struct {
	code, secretHash string
	query, compare   string
	atUs             int64
	speed            float64
	ended            bool
	touched          time.Time
}

// storedRoom is everything the store holds about one room.
type storedRoom struct {
	row    roomRow
	people []*participant // in join order
	polls  []*poll        // in order, with their answers
}

// errNoSuchRoom is a code the store does not hold.
var errNoSuchRoom = errors.New("no such room")

func (st roomStore) create(ctx context.Context, r roomRow) error {
	_, err := st.db.ExecContext(ctx, `INSERT INTO rooms (code, secret_hash, query, compare, at_us, speed, touched)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.code, r.secretHash, r.query, r.compare, r.atUs, r.speed, r.touched.Unix())
	if err != nil {
		return fmt.Errorf("store room %s: %w", r.code, err)
	}
	return nil
}

// exists says whether a room with this code was ever created.
func (st roomStore) exists(ctx context.Context, code string) (bool, error) {
	var n int
	err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rooms WHERE code = ?`, code).Scan(&n)
	return n > 0, err
}

// row reads a room's own row; errNoSuchRoom when there is none.
func (st roomStore) row(ctx context.Context, code string) (roomRow, error) {
	r := roomRow{code: code}
	var ended int
	var touched int64
	err := st.db.QueryRowContext(ctx, `SELECT secret_hash, query, compare, at_us, speed, ended, touched FROM rooms WHERE code = ?`, code).
		Scan(&r.secretHash, &r.query, &r.compare, &r.atUs, &r.speed, &ended, &touched)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errNoSuchRoom
	}
	if err != nil {
		return r, fmt.Errorf("read room %s: %w", code, err)
	}
	r.ended, r.touched = ended == 1, time.Unix(touched, 0)
	return r, nil
}

// load reads a room with its participants, polls and answers.
func (st roomStore) load(ctx context.Context, code string) (storedRoom, error) {
	var out storedRoom
	var err error
	if out.row, err = st.row(ctx, code); err != nil {
		return out, err
	}
	rows, err := st.db.QueryContext(ctx, `SELECT id, name FROM room_participants WHERE room = ? ORDER BY rowid`, code)
	if err != nil {
		return out, err
	}
	for rows.Next() {
		p := &participant{}
		if err := rows.Scan(&p.id, &p.name); err != nil {
			rows.Close()
			return out, err
		}
		out.people = append(out.people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows, err = st.db.QueryContext(ctx, `SELECT id, question, kind, choices, metric, state, measured, expected FROM room_polls WHERE room = ? ORDER BY id`, code)
	if err != nil {
		return out, err
	}
	byID := map[int]*poll{}
	for rows.Next() {
		p := &poll{answers: map[string]string{}}
		var choices, measured string
		if err := rows.Scan(&p.ID, &p.Question, &p.Kind, &choices, &p.Metric, &p.State, &measured, &p.expected); err != nil {
			rows.Close()
			return out, err
		}
		if err := errors.Join(json.Unmarshal([]byte(choices), &p.Choices), json.Unmarshal([]byte(measured), &p.Measured)); err != nil {
			rows.Close()
			return out, fmt.Errorf("room %s poll %d: %w", code, p.ID, err)
		}
		out.polls = append(out.polls, p)
		byID[p.ID] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows, err = st.db.QueryContext(ctx, `SELECT poll, participant, answer FROM room_answers WHERE room = ?`, code)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var who, answer string
		if err := rows.Scan(&id, &who, &answer); err != nil {
			return out, err
		}
		if p := byID[id]; p != nil {
			p.answers[who] = answer
		}
	}
	return out, rows.Err()
}

// unix is how the store keeps a time: Unix seconds.
func unix(t time.Time) int64 { return t.Unix() }

func (st roomStore) addParticipant(ctx context.Context, code string, p *participant, now time.Time) error {
	return st.tx(ctx, code, now, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_participants (room, id, name) VALUES (?, ?, ?)`, code, p.id, p.name)
		return err
	})
}

func (st roomStore) setScenario(ctx context.Context, code, query, compare string, atUs int64, speed float64, now time.Time) error {
	return st.exec(ctx, code, `UPDATE rooms SET query = ?, compare = ?, at_us = ?, speed = ?, touched = ? WHERE code = ?`,
		query, compare, atUs, speed, unix(now), code)
}

func (st roomStore) setPlayhead(ctx context.Context, code string, atUs int64, speed float64, now time.Time) error {
	return st.exec(ctx, code, `UPDATE rooms SET at_us = ?, speed = ?, touched = ? WHERE code = ?`, atUs, speed, unix(now), code)
}

func (st roomStore) addPoll(ctx context.Context, code string, p *poll, now time.Time) error {
	choices, err := json.Marshal(p.Choices)
	if err != nil {
		return err
	}
	if choices == nil || string(choices) == "null" {
		choices = []byte("[]")
	}
	return st.tx(ctx, code, now, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_polls (room, id, question, kind, choices, metric, state, expected) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			code, p.ID, p.Question, p.Kind, string(choices), p.Metric, p.State, p.expected)
		return err
	})
}

func (st roomStore) setPollState(ctx context.Context, code string, p *poll, now time.Time) error {
	measured, err := json.Marshal(p.Measured)
	if err != nil {
		return err
	}
	if string(measured) == "null" {
		measured = []byte("[]")
	}
	return st.tx(ctx, code, now, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE room_polls SET state = ?, measured = ? WHERE room = ? AND id = ?`, p.State, string(measured), code, p.ID)
		return err
	})
}

func (st roomStore) setAnswer(ctx context.Context, code string, pollID int, who, answer string, now time.Time) error {
	return st.tx(ctx, code, now, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_answers (room, poll, participant, answer) VALUES (?, ?, ?, ?)
			ON CONFLICT (room, poll, participant) DO UPDATE SET answer = excluded.answer,
			answered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`, code, pollID, who, answer)
		return err
	})
}

func (st roomStore) end(ctx context.Context, code string, now time.Time) error {
	return st.exec(ctx, code, `UPDATE rooms SET ended = 1, touched = ? WHERE code = ?`, unix(now), code)
}

// exec runs one statement of a room's change.
func (st roomStore) exec(ctx context.Context, code, q string, args ...any) error {
	if _, err := st.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("room %s: %w", code, err)
	}
	return nil
}

// tx runs change and marks the room touched, in one transaction.
func (st roomStore) tx(ctx context.Context, code string, now time.Time, change func(*sql.Tx) error) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("room %s: %w", code, err)
	}
	defer tx.Rollback()
	if err := change(tx); err != nil {
		return fmt.Errorf("room %s: %w", code, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rooms SET touched = ? WHERE code = ?`, unix(now), code); err != nil {
		return fmt.Errorf("room %s: %w", code, err)
	}
	return tx.Commit()
}

// resultRow is one line of a room's results: an answer to a poll.
type resultRow struct {
	poll               int
	question, kind     string
	state              string
	participant, name  string
	answer, answeredAt string
}

// results lists every answer to every poll of a room, poll by poll, in
// the order the participants joined.
func (st roomStore) results(ctx context.Context, code string) ([]resultRow, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT p.id, p.question, p.kind, p.state, a.participant, pp.name, a.answer, a.answered_at
		FROM room_answers a
		JOIN room_polls p ON p.room = a.room AND p.id = a.poll
		JOIN room_participants pp ON pp.room = a.room AND pp.id = a.participant
		WHERE a.room = ? ORDER BY p.id, pp.rowid`, code)
	if err != nil {
		return nil, fmt.Errorf("results of room %s: %w", code, err)
	}
	defer rows.Close()
	var out []resultRow
	for rows.Next() {
		var r resultRow
		if err := rows.Scan(&r.poll, &r.question, &r.kind, &r.state, &r.participant, &r.name, &r.answer, &r.answeredAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
