package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Progress is one learner's state in one lesson, as the lesson_progress
// table keeps it and as a progress file carries it.
type Progress struct {
	// Step is the step the learner is on, 0-based.
	Step int `json:"step"`
	// Predictions maps a predict step's index to the learner's answer, as
	// text; it is saved before the reveal.
	Predictions map[int]string `json:"predictions,omitempty"`
	// Challenge is the learner's last challenge scenario as a playground
	// query string; "" before the first try.
	Challenge string `json:"challenge,omitempty"`
	// Tries counts the challenge runs the learner made.
	Tries int `json:"tries,omitempty"`
	// Solved is set when one of the learner's own runs met the challenge.
	Solved bool `json:"solved,omitempty"`
	// SolutionShown is set once the learner asked to see the solution.
	SolutionShown bool `json:"solution_shown,omitempty"`
}

// started says whether the learner has done anything in the lesson.
func (p Progress) started() bool {
	return p.Step > 0 || len(p.Predictions) > 0 || p.Tries > 0 || p.Solved || p.SolutionShown
}

// progressStore keeps lesson progress in the app's database.
type progressStore struct{ db *sql.DB }

// get is the learner's progress in lesson; the zero Progress when there
// is none.
func (ps progressStore) get(ctx context.Context, learner, lesson string) (Progress, error) {
	return getProgress(ctx, ps.db, learner, lesson)
}

// queryer is what reading progress needs: a database or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getProgress(ctx context.Context, q queryer, learner, lesson string) (Progress, error) {
	var p Progress
	var preds string
	err := q.QueryRowContext(ctx, `SELECT step, predictions, challenge, tries, solved, solution_shown
FROM lesson_progress WHERE learner_id = ? AND lesson_id = ?`, learner, lesson).
		Scan(&p.Step, &preds, &p.Challenge, &p.Tries, &p.Solved, &p.SolutionShown)
	if errors.Is(err, sql.ErrNoRows) {
		return Progress{}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("read progress of lesson %s: %w", lesson, err)
	}
	if err := json.Unmarshal([]byte(preds), &p.Predictions); err != nil {
		return Progress{}, fmt.Errorf("read predictions of lesson %s: %q: %w", lesson, preds, err)
	}
	return p, nil
}

// all is every lesson the learner has a row for, and their ids from the
// least to the most recently touched: the last is where to continue.
func (ps progressStore) all(ctx context.Context, learner string) (map[string]Progress, []string, error) {
	rows, err := ps.db.QueryContext(ctx, `SELECT lesson_id, step, predictions, challenge, tries, solved, solution_shown
FROM lesson_progress WHERE learner_id = ? ORDER BY touched, lesson_id`, learner)
	if err != nil {
		return nil, nil, fmt.Errorf("read progress: %w", err)
	}
	defer rows.Close()
	out := map[string]Progress{}
	var order []string
	for rows.Next() {
		var id, preds string
		var p Progress
		if err := rows.Scan(&id, &p.Step, &preds, &p.Challenge, &p.Tries, &p.Solved, &p.SolutionShown); err != nil {
			return nil, nil, fmt.Errorf("read progress: %w", err)
		}
		if err := json.Unmarshal([]byte(preds), &p.Predictions); err != nil {
			return nil, nil, fmt.Errorf("read predictions of lesson %s: %q: %w", id, preds, err)
		}
		order = append(order, id)
		out[id] = p
	}
	return out, order, rows.Err()
}

// update changes the learner's progress in lesson in one transaction:
// change gets the current progress and edits it; if it returns an error,
// nothing is written.
func (ps progressStore) update(ctx context.Context, learner, lesson string, change func(*Progress) error) (Progress, error) {
	tx, err := ps.db.BeginTx(ctx, nil)
	if err != nil {
		return Progress{}, err
	}
	defer tx.Rollback()
	p, err := getProgress(ctx, tx, learner, lesson)
	if err != nil {
		return Progress{}, err
	}
	if err := change(&p); err != nil {
		return Progress{}, err
	}
	if err := putProgress(ctx, tx, learner, lesson, p); err != nil {
		return Progress{}, err
	}
	return p, tx.Commit()
}

func putProgress(ctx context.Context, tx *sql.Tx, learner, lesson string, p Progress) error {
	if p.Predictions == nil {
		p.Predictions = map[int]string{}
	}
	preds, err := json.Marshal(p.Predictions)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO lesson_progress
  (learner_id, lesson_id, step, predictions, challenge, tries, solved, solution_shown, touched)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
  (SELECT COALESCE(MAX(touched), 0) + 1 FROM lesson_progress WHERE learner_id = ?1))
ON CONFLICT (learner_id, lesson_id) DO UPDATE SET
  step = excluded.step, predictions = excluded.predictions, challenge = excluded.challenge,
  tries = excluded.tries, solved = excluded.solved, solution_shown = excluded.solution_shown,
  touched = excluded.touched`,
		learner, lesson, p.Step, string(preds), p.Challenge, p.Tries, p.Solved, p.SolutionShown)
	if err != nil {
		return fmt.Errorf("save progress of lesson %s: %w", lesson, err)
	}
	return nil
}

// reset throws away the learner's progress in lesson.
func (ps progressStore) reset(ctx context.Context, learner, lesson string) error {
	_, err := ps.db.ExecContext(ctx, "DELETE FROM lesson_progress WHERE learner_id = ? AND lesson_id = ?", learner, lesson)
	return err
}

// replace makes the learner's progress exactly lessons, in one
// transaction, in the order given (the last one is the one to continue).
func (ps progressStore) replace(ctx context.Context, learner string, order []string, lessons map[string]Progress) error {
	tx, err := ps.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM lesson_progress WHERE learner_id = ?", learner); err != nil {
		return err
	}
	for _, id := range order {
		if err := putProgress(ctx, tx, learner, id, lessons[id]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// The learner cookie: an anonymous learner is a random id, nothing else.

const (
	// learnerCookie names the cookie that holds the learner's id.
	learnerCookie = "pt_learner"
	// learnerIDBytes is the id's entropy: 128 bits, not guessable.
	learnerIDBytes = 16
	// learnerCookieAge keeps progress for a year of absence.
	learnerCookieAge = 365 * 24 * time.Hour
)

// newLearnerID draws a fresh id from crypto/rand.
func newLearnerID() string {
	b := make([]byte, learnerIDBytes)
	rand.Read(b) // never fails (crypto/rand panics on a broken system source)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validLearnerID says whether id looks like one newLearnerID made, so a
// hand-made cookie cannot pick an arbitrary key.
func validLearnerID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == learnerIDBytes
}

// learnerID is the request's learner: the cookie's id, or a new one that
// is set on the response. Every lesson page calls it, so a learner has an
// id before the first thing worth keeping.
func learnerID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(learnerCookie); err == nil && validLearnerID(c.Value) {
		return c.Value
	}
	id := newLearnerID()
	http.SetCookie(w, &http.Cookie{
		Name:     learnerCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int(learnerCookieAge / time.Second),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	return id
}

// The progress file: what export writes and import reads.

// progressFormat marks a progress file as this app's, so a foreign JSON
// file is told apart from a damaged one.
const progressFormat = "partialtruth-progress"

// progressVersion is the file layout's version.
const progressVersion = 1

// maxProgressFile bounds an imported file: a dozen lessons' progress takes
// a few kilobytes.
const maxProgressFile = 64 << 10

// progressFile is the exported JSON.
type progressFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Lessons maps a lesson id to its progress.
	Lessons map[string]Progress `json:"lessons"`
	// Order lists the lessons from least to most recently touched, so an
	// import continues where the export left off.
	Order []string `json:"order"`
}

// encodeProgress writes a learner's progress as a progress file.
func encodeProgress(lessons map[string]Progress, order []string) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false) // a scenario's & stays readable
	e.SetIndent("", "  ")
	if err := e.Encode(progressFile{Format: progressFormat, Version: progressVersion, Lessons: lessons, Order: order}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeProgress reads a progress file and checks every lesson in it with
// check (the lesson exists, its step and answers are in range). Any error
// says what is wrong, naming the lesson and the value.
func decodeProgress(b []byte, check func(lesson string, p Progress) error) (progressFile, error) {
	var f progressFile
	if len(b) == 0 {
		return f, errors.New("the file is empty; choose a progress file exported from Partial Truth's lessons page")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return f, fmt.Errorf("the file is not a Partial Truth progress file: %v", err)
	}
	if d.More() {
		return f, errors.New("the file is not a Partial Truth progress file: it holds more than one JSON value")
	}
	if f.Format != progressFormat {
		return f, fmt.Errorf("the file is not a Partial Truth progress file: format is %q; allowed: %q", f.Format, progressFormat)
	}
	if f.Version != progressVersion {
		return f, fmt.Errorf("progress file version %d is not supported; allowed: %d", f.Version, progressVersion)
	}
	if len(f.Order) != len(f.Lessons) {
		return f, fmt.Errorf("the progress file's order lists %d lessons but it holds %d", len(f.Order), len(f.Lessons))
	}
	for _, id := range f.Order {
		if _, ok := f.Lessons[id]; !ok {
			return f, fmt.Errorf("the progress file's order names lesson %q, which it holds no progress for", id)
		}
	}
	for _, id := range slicesSortedKeys(f.Lessons) {
		p := f.Lessons[id]
		if p.Step < 0 || p.Tries < 0 {
			return f, fmt.Errorf("lesson %q: step %d, tries %d; allowed: 0 or more", id, p.Step, p.Tries)
		}
		if err := check(id, p); err != nil {
			return f, fmt.Errorf("lesson %q: %v", id, err)
		}
	}
	return f, nil
}

// slicesSortedKeys is m's keys in order, so errors name the same lesson
// every time.
func slicesSortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
