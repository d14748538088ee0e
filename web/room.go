package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"partialtruth/lessons"
	"partialtruth/sim"
)

// A training room is a named run session that many browsers follow: the
// trainer's control messages move its playhead, and every participant's
// socket is a viewer of the same session, so a room shares its scenario
// and playhead and each batch of events is encoded once for everyone.
// Around the run a room keeps who joined, its polls and their answers.
//
// Every change of a room's own state (people, polls, answers, the
// scenario, the end) goes through the methods of room in this file: each
// checks the change, writes it to the store, then publishes the new state
// to the room's sockets through a roomFanout. Nothing else changes a room.

// Room limits.
const (
	// roomAlphabet is what a join code is made of: capitals and digits
	// without the look-alikes 0/O and 1/I/L.
	roomAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	roomCodeLen  = 6
	// DefaultMaxRoomSize is how many participants a room holds unless
	// Config.MaxRoomSize says otherwise (the serve flag -max-room-size).
	DefaultMaxRoomSize = 500
	// roomIdleExpiry ends a room nobody has changed or joined for this long.
	roomIdleExpiry   = 12 * time.Hour
	maxNameRunes     = 40
	maxQuestionRunes = 200
	maxChoices       = 8
	maxChoiceRunes   = 60
	maxNumberAnswer  = 1e12
	maxPolls         = 100
)

// Room message types, besides the run's (see the protocol in room_http.go).
const (
	msgPollOpen   = "poll-open"
	msgPollClose  = "poll-close"
	msgPollReveal = "poll-reveal"
	msgAnswer     = "answer"
	msgEnd        = "end"
	msgLessonStep = "lesson-step"
	msgRoom       = "room"
	msgRoomPeople = "room-people"
	msgYou        = "you"
)

// Errors a room answers a refused change with; each says what to do.
var (
	errRoomEnded    = errors.New("this room has ended")
	errRoomFull     = errors.New("this room is full")
	errTrainerOnly  = errors.New("only the room's trainer controls the room; you follow it")
	errNotJoined    = errors.New("join the room first")
	errPollNotOpen  = errors.New("no poll is open: the trainer has closed it or not opened one")
	errTooManyPolls = fmt.Errorf("a room holds at most %d polls", maxPolls)
)

// participant is one person who joined a room, identified by the random
// id in their cookie.
type participant struct {
	id, name  string
	connected int          // sockets open now
	ver       atomic.Int64 // counts changes of this participant's answers
}

// poll is a question the trainer asked. Answers are by participant id;
// a participant has one, changeable while the poll is open.
type poll struct {
	ID       int        `json:"id"`
	Question string     `json:"question"`
	Kind     string     `json:"kind"` // choice or number
	Choices  []string   `json:"choices,omitempty"`
	Metric   string     `json:"metric,omitempty"`
	State    string     `json:"state"` // open, closed or revealed
	Measured []measured `json:"measured,omitempty"`
	answers  map[string]string
	// expected is, for a lesson's choice prediction, the option the
	// lesson's run makes right: shown from the reveal on.
	expected string
}

// measured is what a run's side measured for a poll's metric at the reveal.
type measured struct {
	Design string          `json:"design"`
	Value  json.RawMessage `json:"value"`
}

// share is one answer's part of a poll's distribution.
type share struct {
	Answer string `json:"answer"`
	Count  int    `json:"count"`
}

// pollView is a poll as a room message carries it: the distribution only
// once revealed.
type pollView struct {
	*poll
	Answers      int     `json:"answers"`
	Distribution []share `json:"distribution,omitempty"`
	Expected     string  `json:"expected,omitempty"`
}

// roomMsg is the room's state as everyone may see it.
type roomMsg struct {
	Type    string     `json:"type"`
	Code    string     `json:"code"`
	Ended   bool       `json:"ended"`
	Poll    *pollView  `json:"poll,omitempty"`    // the latest poll
	Results []pollView `json:"results,omitempty"` // every poll, once the room has ended
}

// peopleMsg is what only the trainer sees: who is here, and how many have
// answered the latest poll.
type peopleMsg struct {
	Type      string   `json:"type"`
	Joined    int      `json:"joined"`
	Connected int      `json:"connected"`
	Names     []string `json:"names"` // of those connected, in join order; "" for no name
	Answers   int      `json:"answers"`
}

// youMsg is a participant's own: their name and their answers by poll id.
type youMsg struct {
	Type    string            `json:"type"`
	Name    string            `json:"name"`
	Answers map[string]string `json:"answers"`
}

// roomFanout tells a room's sockets that its state changed; each then
// reads what it has not sent. In one process it is the room's local
// sockets; a later step can put rooms on a shared database and fan out
// across instances behind the same two calls.
type roomFanout interface {
	add(m *roomMember)
	remove(m *roomMember)
	// changed wakes every socket; it never waits on one.
	changed()
}

// localFanout is the room's sockets in this process.
type localFanout struct {
	mu      sync.Mutex
	members map[*roomMember]struct{}
}

func (f *localFanout) add(m *roomMember) {
	f.mu.Lock()
	f.members[m] = struct{}{}
	f.mu.Unlock()
}

func (f *localFanout) remove(m *roomMember) {
	f.mu.Lock()
	delete(f.members, m)
	f.mu.Unlock()
}

func (f *localFanout) changed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for m := range f.members {
		m.v.poke()
	}
}

// room is one training room, loaded in memory.
type room struct {
	code       string
	secretHash string
	sess       *session
	store      roomStore
	fan        roomFanout
	clock      clock
	log        *slog.Logger
	maxSize    int

	mu      sync.Mutex
	ended   bool
	touched time.Time
	people  map[string]*participant
	order   []*participant // join order
	polls   []*poll
	// The encoded state, once per change: everyone's and the trainer's.
	// The versions are read without the lock, so that a socket woken
	// for a playhead move does not queue on the room's lock.
	pubVer, peopleVer atomic.Int64
	pub, peopleJSON   []byte
}

func newRoom(code string, st storedRoom, sess *session, store roomStore, clk clock, log *slog.Logger, maxSize int) *room {
	r := &room{code: code, secretHash: st.row.secretHash, sess: sess, store: store, clock: clk, log: log, maxSize: maxSize,
		fan: &localFanout{members: map[*roomMember]struct{}{}}, ended: st.row.ended, touched: st.row.touched,
		people: map[string]*participant{}, polls: st.polls}
	for _, p := range st.people {
		r.people[p.id] = p
		r.order = append(r.order, p)
	}
	r.publishLocked(true, true)
	return r
}

// isTrainer says whether secret is the room's trainer secret.
func (r *room) isTrainer(secret string) bool {
	if secret == "" {
		return false
	}
	h := hashSecret(secret)
	return subtle.ConstantTimeCompare([]byte(h), []byte(r.secretHash)) == 1
}

// isParticipant says whether id joined the room.
func (r *room) isParticipant(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.people[id] != nil
}

// isEnded says whether the trainer ended the room or it expired.
func (r *room) isEnded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended
}

// join adds a participant with a checked name, unless the room is full
// or ended.
func (r *room) join(ctx context.Context, name string) (*participant, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil, errRoomEnded
	}
	if len(r.people) >= r.maxSize {
		return nil, errRoomFull
	}
	p := &participant{id: newLearnerID(), name: name}
	now := r.clock.Now()
	if err := r.store.addParticipant(ctx, r.code, p, now); err != nil {
		return nil, err
	}
	r.people[p.id] = p
	r.order = append(r.order, p)
	r.touched = now
	r.publishLocked(false, true)
	return p, nil
}

// connect and disconnect count a participant's open sockets, for the
// trainer's list of who is here.
func (r *room) connect(who string, delta int) {
	r.mu.Lock()
	if p := r.people[who]; p != nil {
		p.connected += delta
		r.publishLocked(false, true)
	}
	r.mu.Unlock()
}

// scenarioChanged records the session's current run and playhead as the
// room's, after the trainer moved it.
func (r *room) scenarioChanged(ctx context.Context, runChanged bool) error {
	st := r.sess.snapshot()
	if st.gen == 0 {
		return nil
	}
	var cur cursorMsg
	if err := json.Unmarshal(st.cursor, &cur); err != nil {
		return fmt.Errorf("room %s: reading its cursor: %w", r.code, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	r.touched = now
	if !runChanged {
		return r.store.setPlayhead(ctx, r.code, cur.AtUs, cur.Speed, now)
	}
	query, compare := st.sides[0].query, ""
	if len(st.sides) > 1 {
		compare = st.sides[1].design.Name
	}
	return r.store.setScenario(ctx, r.code, query, compare, cur.AtUs, cur.Speed, now)
}

// openPoll opens a new poll, closing the latest one if it is still open.
func (r *room) openPoll(ctx context.Context, question, kind string, choices []string, metric string) error {
	p, err := checkPoll(question, kind, choices, metric)
	if err != nil {
		return err
	}
	return r.addPoll(ctx, p)
}

// showLessonStep makes a lesson's run step, or the run a predict step
// asks about, the room's run (paused at its start, at the room's speed);
// a predict step also becomes a poll, its question asked before the run
// is played.
func (r *room) showLessonStep(ctx context.Context, l *lessons.Lesson, step int) error {
	if step < 0 || step >= len(l.Steps) {
		return &sim.InputError{Field: "step", Msg: fmt.Sprintf("step %d is out of range for lesson %s; allowed: 0 to %d", step, l.ID, len(l.Steps)-1)}
	}
	st := l.Steps[step]
	at := step
	if st.Kind == lessons.KindPredict {
		at = l.RunStep(step)
	}
	if st.Kind != lessons.KindRun && st.Kind != lessons.KindPredict || at < 0 || l.Steps[at].Run == nil {
		return &sim.InputError{Field: "step", Msg: fmt.Sprintf("step %d of lesson %s is a %s step; allowed: a run or predict step", step, l.ID, st.Kind)}
	}
	if r.isEnded() {
		return errRoomEnded
	}
	run := l.Steps[at].Run
	scs := []sim.Scenario{run.Scenario}
	if run.Compare != "" {
		other := run.Scenario
		other.Design = run.Compare
		scs = append(scs, other)
	}
	speed := float64(defaultSpeed)
	var cur cursorMsg
	if json.Unmarshal(r.sess.snapshot().cursor, &cur) == nil && cur.Type != "" {
		speed = cur.Speed
	}
	if err := r.sess.start(ctx, scs, speed, false); err != nil {
		return err
	}
	if err := r.scenarioChanged(ctx, true); err != nil {
		return err
	}
	if st.Kind != lessons.KindPredict {
		return nil
	}
	pr := st.Predict
	p := &poll{Question: l.Title + ": " + stepTitle(st), Kind: "number", Metric: pr.Key, State: "open", answers: map[string]string{}}
	if pr.IsChoice() {
		p.Kind, p.Metric = "choice", ""
		for _, o := range pr.Options {
			p.Choices = append(p.Choices, o.Text)
		}
		_, right, err := l.Measured(step)
		if err != nil {
			return err
		}
		p.expected = right
	}
	if n := utf8.RuneCountInString(p.Question); n > maxQuestionRunes {
		p.Question = string([]rune(p.Question)[:maxQuestionRunes-1]) + "…"
	}
	return r.addPoll(ctx, p)
}

// addPoll adds a checked poll as the latest, closing the one before.
func (r *room) addPoll(ctx context.Context, p *poll) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return errRoomEnded
	}
	if len(r.polls) >= maxPolls {
		return errTooManyPolls
	}
	now := r.clock.Now()
	if last := r.latestLocked(); last != nil && last.State == "open" {
		last.State = "closed"
		if err := r.store.setPollState(ctx, r.code, last, now); err != nil {
			last.State = "open"
			return err
		}
	}
	p.ID = len(r.polls) + 1
	if err := r.store.addPoll(ctx, r.code, p, now); err != nil {
		return err
	}
	r.polls = append(r.polls, p)
	r.touched = now
	r.publishLocked(true, true)
	return nil
}

// setPollState closes or reveals the latest poll. A reveal records what
// the current run measured for the poll's metric, side by side.
func (r *room) setPollState(ctx context.Context, state string) error {
	var reports [][]byte
	var designs []string
	if state == "revealed" {
		for _, rec := range r.sess.snapshot().sides {
			reports = append(reports, rec.report)
			designs = append(designs, rec.design.Name)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.latestLocked()
	if p == nil {
		return &sim.InputError{Field: "poll", Msg: "there is no poll to " + strings.TrimSuffix(state, "d") + "; open one first"}
	}
	if state == "closed" && p.State != "open" {
		return &sim.InputError{Field: "poll", Msg: fmt.Sprintf("poll %d is %s already", p.ID, p.State)}
	}
	old, oldMeasured := p.State, p.Measured
	p.State = state
	if state == "revealed" && p.Metric != "" {
		p.Measured = nil
		for i, rep := range reports {
			var m map[string]json.RawMessage
			if json.Unmarshal(rep, &m) == nil && m[p.Metric] != nil {
				p.Measured = append(p.Measured, measured{Design: designs[i], Value: m[p.Metric]})
			}
		}
	}
	now := r.clock.Now()
	if err := r.store.setPollState(ctx, r.code, p, now); err != nil {
		p.State, p.Measured = old, oldMeasured
		return err
	}
	r.touched = now
	r.publishLocked(true, true)
	return nil
}

// answer sets who's answer to the latest poll, which must be open.
func (r *room) answer(ctx context.Context, who string, pollID int, answer string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pt := r.people[who]
	if pt == nil {
		return errNotJoined
	}
	p := r.latestLocked()
	if p == nil || p.State != "open" || p.ID != pollID {
		return errPollNotOpen
	}
	a, err := checkAnswer(p, answer)
	if err != nil {
		return err
	}
	now := r.clock.Now()
	if err := r.store.setAnswer(ctx, r.code, p.ID, who, a, now); err != nil {
		return err
	}
	p.answers[who] = a
	pt.ver.Add(1)
	r.touched = now
	r.publishLocked(false, true)
	return nil
}

// end ends the room: everyone sees it ended, with every poll's results,
// and its run stops where it is.
func (r *room) end(ctx context.Context) error {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return nil
	}
	now := r.clock.Now()
	if err := r.store.end(ctx, r.code, now); err != nil {
		r.mu.Unlock()
		return err
	}
	r.ended = true
	r.touched = now
	r.publishLocked(true, true)
	r.mu.Unlock()
	if r.sess != nil {
		r.sess.pause() // errNoRun cannot happen: a room starts with its run
		r.sess.close()
	}
	return nil
}

// expired says whether the room has been idle longer than roomIdleExpiry.
func (r *room) expired(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.ended && now.Sub(r.touched) > roomIdleExpiry
}

func (r *room) latestLocked() *poll {
	if len(r.polls) == 0 {
		return nil
	}
	return r.polls[len(r.polls)-1]
}

// publishLocked encodes the state that changed, once for every socket;
// the caller wakes them (r.fan.changed) after unlocking, or the room's
// methods do through publish. r.mu is held.
func (r *room) publishLocked(everyone, trainer bool) {
	if everyone {
		m := roomMsg{Type: msgRoom, Code: r.code, Ended: r.ended}
		if p := r.latestLocked(); p != nil {
			v := viewOf(p)
			m.Poll = &v
		}
		if r.ended {
			for _, p := range r.polls {
				m.Results = append(m.Results, viewOf(p))
			}
		}
		r.pub = encodeJSON(m)
		r.pubVer.Add(1)
	}
	if trainer {
		m := peopleMsg{Type: msgRoomPeople, Joined: len(r.order), Names: []string{}}
		for _, p := range r.order {
			if p.connected > 0 {
				m.Connected++
				m.Names = append(m.Names, p.name)
			}
		}
		if p := r.latestLocked(); p != nil {
			m.Answers = len(p.answers)
		}
		r.peopleJSON = encodeJSON(m)
		r.peopleVer.Add(1)
	}
	if r.fan != nil {
		r.fan.changed() // pokes never wait, and the fan-out never takes r.mu
	}
}

// viewOf is a poll as everyone sees it: its distribution once revealed.
func viewOf(p *poll) pollView {
	v := pollView{poll: p, Answers: len(p.answers)}
	if p.State == "revealed" {
		v.Distribution = distribution(p)
		v.Expected = p.expected
	}
	return v
}

// distribution counts a poll's answers: every choice in its order, or
// every number given, in ascending order.
func distribution(p *poll) []share {
	counts := map[string]int{}
	for _, a := range p.answers {
		counts[a]++
	}
	var out []share
	if p.Kind == "choice" {
		for _, c := range p.Choices {
			out = append(out, share{Answer: c, Count: counts[c]})
		}
		return out
	}
	for a, n := range counts {
		out = append(out, share{Answer: a, Count: n})
	}
	slices.SortFunc(out, func(a, b share) int {
		x, _ := strconv.ParseFloat(a.Answer, 64)
		y, _ := strconv.ParseFloat(b.Answer, 64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return strings.Compare(a.Answer, b.Answer)
	})
	return out
}

// state returns what a socket of this role sends: the room's state, the
// trainer's list of people, or a participant's own answers.
func (r *room) youJSON(who string) ([]byte, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.people[who]
	if p == nil {
		return nil, 0
	}
	m := youMsg{Type: msgYou, Name: p.name, Answers: map[string]string{}}
	for _, q := range r.polls {
		if a, ok := q.answers[who]; ok {
			m.Answers[strconv.Itoa(q.ID)] = a
		}
	}
	return encodeJSON(m), p.ver.Load()
}

func encodeJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // plain data: a bug
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return b
}

// Checking what people type.

// cleanText trims s, turns every run of white space into one space and
// drops control characters; it refuses text longer than max runes or
// that is not UTF-8.
func cleanText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", &sim.InputError{Field: field, Msg: fmt.Sprintf("%s is not valid UTF-8 text", field)}
	}
	s = strings.Join(strings.FieldsFunc(s, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }), " ")
	if n := utf8.RuneCountInString(s); n > max {
		return "", &sim.InputError{Field: field, Msg: fmt.Sprintf("%s has %d characters; allowed: at most %d", field, n, max)}
	}
	return s, nil
}

// checkName is a participant's display name, cleaned; it may be empty.
func checkName(name string) (string, error) { return cleanText("name", name, maxNameRunes) }

// checkPoll checks a new poll as the trainer asked for it.
func checkPoll(question, kind string, choices []string, metric string) (*poll, error) {
	q, err := cleanText("question", question, maxQuestionRunes)
	if err != nil {
		return nil, err
	}
	if q == "" {
		return nil, &sim.InputError{Field: "question", Msg: "question is empty; allowed: a question of 1 to " + strconv.Itoa(maxQuestionRunes) + " characters"}
	}
	p := &poll{Question: q, Kind: kind, State: "open", answers: map[string]string{}}
	switch kind {
	case "choice":
		for _, c := range choices {
			c, err := cleanText("choices", c, maxChoiceRunes)
			if err != nil {
				return nil, err
			}
			if c == "" {
				continue
			}
			if slices.Contains(p.Choices, c) {
				return nil, &sim.InputError{Field: "choices", Msg: fmt.Sprintf("choice %q is given twice; allowed: different choices", c)}
			}
			p.Choices = append(p.Choices, c)
		}
		if len(p.Choices) < 2 || len(p.Choices) > maxChoices {
			return nil, &sim.InputError{Field: "choices", Msg: fmt.Sprintf("a choice poll has %d choices; allowed: 2 to %d, one a line", len(p.Choices), maxChoices)}
		}
	case "number":
	default:
		return nil, &sim.InputError{Field: "kind", Msg: fmt.Sprintf("poll kind %q is unknown; allowed: choice, number", kind)}
	}
	if keys := allMetrics(); metric != "" && !slices.Contains(keys, metric) {
		return nil, &sim.InputError{Field: "metric", Msg: fmt.Sprintf("metric %q is not a counter of any design; allowed: one of %s, or none", metric, strings.Join(keys, ", "))}
	}
	p.Metric = metric
	return p, nil
}

// allMetrics is every counter any design shows, each once.
func allMetrics() []string {
	var out []string
	for _, d := range sim.Designs() {
		for _, k := range d.Metrics {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// checkAnswer checks an answer to p: one of its choices, or a number.
func checkAnswer(p *poll, answer string) (string, error) {
	a := strings.TrimSpace(answer)
	if p.Kind == "choice" {
		if !slices.Contains(p.Choices, a) {
			return "", &sim.InputError{Field: "answer", Msg: fmt.Sprintf("answer %.60q is not a choice of poll %d; allowed: %s", a, p.ID, strings.Join(p.Choices, ", "))}
		}
		return a, nil
	}
	f, err := strconv.ParseFloat(a, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumberAnswer {
		return "", &sim.InputError{Field: "answer", Msg: fmt.Sprintf("answer %.60q is not a number; allowed: a number from %g to %g", a, -maxNumberAnswer, maxNumberAnswer)}
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// Codes and secrets.

// newRoomCode draws a code from roomAlphabet with crypto/rand.
func newRoomCode() string {
	b := make([]byte, roomCodeLen)
	for i := range b {
		b[i] = roomAlphabet[randIndex(len(roomAlphabet))]
	}
	return string(b)
}

// randIndex is a uniform number in [0, n) from crypto/rand.
func randIndex(n int) int {
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < 256-256%n {
			return int(b[0]) % n
		}
	}
}

// normalCode is a typed code in its canonical form (capitals), and
// whether it can be a code at all.
func normalCode(s string) (string, bool) {
	s = strings.ToUpper(s)
	if len(s) != roomCodeLen {
		return s, false
	}
	for _, c := range s {
		if !strings.ContainsRune(roomAlphabet, c) {
			return s, false
		}
	}
	return s, true
}

// newSecret is a trainer secret: 256 random bits.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// roomScenarios parses a stored (or posted) room scenario.
func roomScenarios(query, compare string) ([]sim.Scenario, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, &sim.InputError{Field: "query", Msg: fmt.Sprintf("scenario %q is not a query string: %v", query, err)}
	}
	return webScenarios(q.Get, compare)
}
