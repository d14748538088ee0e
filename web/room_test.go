package web

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"partialtruth/lessons"
)

// roomScenario is what the tests start rooms on: the handbook's pair.
var roomScenario = url.Values{"design": {"dual-write"}, "compare": {"outbox-idempotent"},
	"faults": {"bus.publish.fail=0.1"}, "payments": {"50"}, "seed": {"42"}}

// person is one browser in a room test: its own cookies.
type person struct {
	t      testing.TB
	base   string
	client *http.Client
}

func newPerson(t testing.TB, base string) *person {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &person{t: t, base: base, client: &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (p *person) do(method, path string, form url.Values) (*http.Response, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// startRoom posts the scenario to /rooms as the Start button does and
// returns the room's code.
func (p *person) startRoom(sc url.Values) string {
	p.t.Helper()
	res, body := p.do(http.MethodPost, "/rooms", sc)
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("POST /rooms: %s %s", res.Status, body)
	}
	loc := res.Header.Get("Location")
	code, ok := strings.CutPrefix(loc, "/r/")
	if !ok {
		p.t.Fatalf("POST /rooms redirected to %q, want /r/<CODE>", loc)
	}
	return code
}

// join joins the room with a name and fails unless it is let in.
func (p *person) join(code, name string) {
	p.t.Helper()
	res, body := p.do(http.MethodPost, "/r/"+code+"/join", url.Values{"name": {name}})
	if res.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("join %s as %q: %s %s", code, name, res.Status, body)
	}
}

// socket opens the room's socket with the person's cookies.
func (p *person) socket(code string) *testClient {
	p.t.Helper()
	u, _ := url.Parse(p.base + "/r/" + code + "/ws")
	h := http.Header{}
	for _, c := range p.client.Jar.Cookies(u) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	c, res, err := websocket.DefaultDialer.DialContext(p.t.Context(), "ws"+strings.TrimPrefix(u.String(), "http"), h)
	if err != nil {
		p.t.Fatalf("dial %s: %v (%v)", u, err, res)
	}
	res.Body.Close()
	p.t.Cleanup(func() { c.Close() })
	return &testClient{tb: p.t, c: c}
}

// roomState is a room socket's message, loosely decoded.
type roomState struct {
	Type      string            `json:"type"`
	Ended     bool              `json:"ended"`
	Poll      *json.RawMessage  `json:"poll"`
	Connected int               `json:"connected"`
	Names     []string          `json:"names"`
	Answers   json.RawMessage   `json:"answers"`
	Field     string            `json:"field"`
	Message   string            `json:"message"`
	AtUs      int64             `json:"at_us"`
	Playing   bool              `json:"playing"`
	Raw       json.RawMessage   `json:"-"`
	Mine      map[string]string `json:"-"`
}

// until reads messages until one satisfies ok, and returns it.
func (c *testClient) until(what string, ok func(typ string, raw []byte) bool) []byte {
	c.tb.Helper()
	for {
		c.c.SetReadDeadline(time.Now().Add(safetyTimeout))
		_, b, err := c.c.ReadMessage()
		if err != nil {
			c.tb.Fatalf("waiting for %s: %v", what, err)
		}
		var m struct {
			Type string `json:"type"`
		}
		json.Unmarshal(b, &m)
		if ok(m.Type, b) {
			return b
		}
	}
}

// untilAll reads messages until each of oks has matched one, in any
// order, and returns the matches in the order of oks.
func (c *testClient) untilAll(what string, oks ...func(string, []byte) bool) [][]byte {
	c.tb.Helper()
	out := make([][]byte, len(oks))
	left := len(oks)
	c.until(what, func(typ string, b []byte) bool {
		for i, ok := range oks {
			if out[i] == nil && ok(typ, b) {
				out[i] = b
				left--
			}
		}
		return left == 0
	})
	return out
}

func has(typ string, parts ...string) func(string, []byte) bool {
	return func(t string, b []byte) bool {
		if t != typ {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(string(b), p) {
				return false
			}
		}
		return true
	}
}

func startRoomServer(t testing.TB, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.DBPath == "" {
		cfg.DBPath = ":memory:"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

func TestRoomCodeUsesNoLookAlikes(t *testing.T) {
	for range 200 {
		code := newRoomCode()
		if len(code) != 6 || strings.ContainsAny(code, "0O1IL") {
			t.Fatalf("code %q: want six characters without 0, O, 1, I or L", code)
		}
		if c, ok := normalCode(strings.ToLower(code)); !ok || c != code {
			t.Fatalf("normalCode(%q) = %q, %v", strings.ToLower(code), c, ok)
		}
	}
}

func TestStartingARoomSetsAStrictHttpOnlyTrainerCookie(t *testing.T) {
	_, ts := startRoomServer(t, Config{})
	trainer := newPerson(t, ts.URL)
	res, _ := trainer.do(http.MethodPost, "/rooms", roomScenario)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /rooms: %s", res.Status)
	}
	code := strings.TrimPrefix(res.Header.Get("Location"), "/r/")
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == trainerCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/r/"+code || len(ck.Value) < 32 {
		t.Fatalf("trainer cookie %+v: want HttpOnly, SameSite=Strict, path /r/%s, a long secret", ck, code)
	}
	_, page := trainer.do(http.MethodGet, "/r/"+code, nil)
	for _, want := range []string{`data-room="` + code + `"`, `data-role="trainer"`, `data-run-state=`, "<svg", "/r/" + code + "</a>"} {
		if !strings.Contains(page, want) {
			t.Errorf("trainer's page lacks %s", want)
		}
	}
	other := newPerson(t, ts.URL)
	_, page = other.do(http.MethodGet, "/r/"+strings.ToLower(code), nil)
	if res, page = other.do(http.MethodGet, "/r/"+code, nil); res.StatusCode != http.StatusOK || !strings.Contains(page, `action="/r/`+code+`/join"`) {
		t.Fatalf("a stranger gets %s, want the join form: %.300s", res.Status, page)
	}
	other.join(code, "Ada")
	if _, page = other.do(http.MethodGet, "/r/"+code, nil); !strings.Contains(page, `data-role="participant"`) || strings.Contains(page, "<svg xmlns") {
		t.Fatalf("a participant's page: want data-role=participant and no QR code")
	}
}

func TestUnknownAndMalformedCodesGetAClearPage(t *testing.T) {
	_, ts := startRoomServer(t, Config{})
	p := newPerson(t, ts.URL)
	for _, code := range []string{"ABCDEF", "0OIL11", "toolongcode"} {
		res, page := p.do(http.MethodGet, "/r/"+code, nil)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(page, "There is no room with the code") {
			t.Errorf("/r/%s: %s %.200s; want 404 saying there is no such room", code, res.Status, page)
		}
	}
}

func TestParticipantsControlMessageIsRefusedAndChangesNothing(t *testing.T) {
	s, ts := startRoomServer(t, Config{})
	code := newPerson(t, ts.URL).startRoom(roomScenario)
	mallory := newPerson(t, ts.URL)
	mallory.join(code, "Mallory")
	c := mallory.socket(code)
	c.until("the room's run", has(msgMeta))
	room, _ := s.rooms.get(t.Context(), code)
	before := room.sess.snapshot()
	for _, m := range []map[string]any{
		{"type": "play"}, {"type": "seek", "at_us": 5000}, {"type": "step", "delta": 3}, {"type": "speed", "speed": 100},
		{"type": "run", "params": map[string]string{"design": "outbox"}},
		{"type": "poll-open", "question": "Mine?", "kind": "number"}, {"type": "end"},
	} {
		c.send(m)
		b := c.until("an error", has(msgError))
		if !strings.Contains(string(b), "trainer") {
			t.Errorf("%v answered %s; want an error naming the trainer", m, b)
		}
	}
	after := room.sess.snapshot()
	if after.gen != before.gen || string(after.cursor) != string(before.cursor) || room.isEnded() || len(room.polls) != 0 {
		t.Fatalf("a participant's messages changed the room: cursor %s → %s, gen %d → %d", before.cursor, after.cursor, before.gen, after.gen)
	}
	row, err := s.rooms.store.row(t.Context(), code)
	if err != nil || row.atUs != 0 || row.ended || row.query != room.sess.snapshot().sides[0].query {
		t.Fatalf("stored room changed: %+v %v", row, err)
	}
	// Without any cookie the socket is refused before the upgrade.
	if res, _ := newPerson(t, ts.URL).do(http.MethodGet, "/r/"+code+"/ws", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("socket without a cookie: %s, want 403", res.Status)
	}
}

func TestRoomSurvivesARestartOnTheSameDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "rooms.db")
	s1, err := New(Config{DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s1.Handler())
	ts.Start()
	trainer, ada := newPerson(t, ts.URL), newPerson(t, ts.URL)
	code := trainer.startRoom(roomScenario)
	ada.join(code, "Ada")
	tc, ac := trainer.socket(code), ada.socket(code)
	tc.until("the run", has(msgMeta))
	tc.send(map[string]any{"type": "seek", "at_us": 20000})
	tc.send(map[string]any{"type": "poll-open", "question": "How many lost?", "kind": "number", "metric": "lost"})
	ac.until("the poll", has(msgRoom, `"state":"open"`))
	ac.send(map[string]any{"type": "answer", "poll": 1, "answer": "7"})
	ac.until("the answer kept", has(msgYou, `"1":"7"`))
	ts.Close()
	s1.Close()

	s2, err := New(Config{DBPath: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ts2 := httptest.NewServer(s2.Handler())
	defer ts2.Close()
	trainer.base, ada.base = ts2.URL, ts2.URL
	if res, page := ada.do(http.MethodGet, "/r/"+code, nil); res.StatusCode != http.StatusOK || !strings.Contains(page, `data-role="participant"`) {
		t.Fatalf("after a restart Ada gets %s, want her participant page", res.Status)
	}
	ac = ada.socket(code)
	ac.until("her answer", has(msgYou, `"name":"Ada"`, `"1":"7"`))
	tc = trainer.socket(code)
	tc.until("the open poll", has(msgRoom, `"question":"How many lost?"`, `"state":"open"`, `"answers":1`))
	cur := tc.until("the playhead", has(msgCursor))
	var m cursorMsg
	json.Unmarshal(cur, &m)
	if m.AtUs != 20000 || m.Playing {
		t.Fatalf("after a restart the playhead is %+v, want paused at 20000", m)
	}
}

func TestJoinsAreRateLimitedPerAddress(t *testing.T) {
	_, ts := startRoomServer(t, Config{JoinBurst: 3, JoinEvery: time.Hour})
	code := newPerson(t, ts.URL).startRoom(roomScenario) // one try
	newPerson(t, ts.URL).join(code, "a")
	newPerson(t, ts.URL).join(code, "b")
	res, page := newPerson(t, ts.URL).do(http.MethodPost, "/r/"+code+"/join", url.Values{"name": {"c"}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(page, "Too many rooms created or joined from your address") {
		t.Fatalf("the fourth try from one address: %s %.300s; want 429 with Retry-After and the reason", res.Status, page)
	}
}

func TestAFullRoomSaysSo(t *testing.T) {
	_, ts := startRoomServer(t, Config{MaxRoomSize: 2})
	code := newPerson(t, ts.URL).startRoom(roomScenario)
	newPerson(t, ts.URL).join(code, "a")
	newPerson(t, ts.URL).join(code, "b")
	res, page := newPerson(t, ts.URL).do(http.MethodPost, "/r/"+code+"/join", url.Values{"name": {"c"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "is full: it holds at most 2 participants") {
		t.Fatalf("the third participant of a room of 2: %s %.300s; want 403 saying the room is full", res.Status, page)
	}
}

func TestNamesAreBoundedAndEscaped(t *testing.T) {
	_, ts := startRoomServer(t, Config{})
	code := newPerson(t, ts.URL).startRoom(roomScenario)
	res, page := newPerson(t, ts.URL).do(http.MethodPost, "/r/"+code+"/join", url.Values{"name": {strings.Repeat("x", 41)}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "name has 41 characters; allowed: at most 40") {
		t.Fatalf("a 41-character name: %s; want 400 naming the limit", res.Status)
	}
	res, page = newPerson(t, ts.URL).do(http.MethodPost, "/r/"+code+"/join", url.Values{"name": {"<script>alert(1)</script>" + strings.Repeat("y", 20)}})
	if res.StatusCode != http.StatusBadRequest || strings.Contains(page, "<script>alert") {
		t.Fatalf("a name with markup must come back escaped: %s", res.Status)
	}
}

func TestResultsCSVIsTheTrainersAndDefusesFormulas(t *testing.T) {
	_, ts := startRoomServer(t, Config{})
	trainer := newPerson(t, ts.URL)
	code := trainer.startRoom(roomScenario)
	eve := newPerson(t, ts.URL)
	eve.join(code, `=HYPERLINK("http://x","y")`)
	tc, ec := trainer.socket(code), eve.socket(code)
	tc.send(map[string]any{"type": "poll-open", "question": "Which converges?", "kind": "choice", "choices": []string{"dual-write", "outbox-idempotent"}})
	ec.until("the poll", has(msgRoom, `"state":"open"`))
	ec.send(map[string]any{"type": "answer", "poll": 1, "answer": "outbox-idempotent"})
	ec.until("the answer", has(msgYou, "outbox-idempotent"))
	if res, _ := eve.do(http.MethodGet, "/r/"+code+"/results.csv", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a participant asking for the results gets %s, want 403", res.Status)
	}
	res, body := trainer.do(http.MethodGet, "/r/"+code+"/results.csv", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("results: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("results CSV %q: %v; want a header and one answer", body, err)
	}
	if got := rows[1][5]; got != `'=HYPERLINK("http://x","y")` {
		t.Fatalf("name cell %q: want the formula defused with a leading apostrophe", got)
	}
	if rows[1][6] != "outbox-idempotent" || rows[1][0] != "1" {
		t.Fatalf("answer row %v", rows[1])
	}
}

func TestPollAnswerIsOnePerParticipantAndChangeableUntilClosed(t *testing.T) {
	_, ts := startRoomServer(t, Config{})
	trainer := newPerson(t, ts.URL)
	code := trainer.startRoom(roomScenario)
	ada := newPerson(t, ts.URL)
	ada.join(code, "Ada")
	tc, ac := trainer.socket(code), ada.socket(code)
	tc.send(map[string]any{"type": "poll-open", "question": "How many lost?", "kind": "number", "metric": "lost"})
	ac.until("the poll", has(msgRoom, `"state":"open"`))
	ac.send(map[string]any{"type": "answer", "poll": 1, "answer": "3"})
	ac.send(map[string]any{"type": "answer", "poll": 1, "answer": "5"})
	ac.until("the changed answer", has(msgYou, `"1":"5"`))
	tc.until("one answer", has(msgRoomPeople, `"answers":1`))
	tc.send(map[string]any{"type": "poll-close"})
	ac.until("the closed poll", has(msgRoom, `"state":"closed"`))
	ac.send(map[string]any{"type": "answer", "poll": 1, "answer": "9"})
	ac.until("a refusal", has(msgError, "no poll is open"))
	tc.send(map[string]any{"type": "poll-reveal"})
	b := ac.until("the reveal", has(msgRoom, `"state":"revealed"`))
	if !strings.Contains(string(b), `"distribution":[{"answer":"5","count":1}]`) || !strings.Contains(string(b), `"measured":[{"design":"dual-write","value":`) {
		t.Fatalf("reveal %s: want Ada's 5 counted once and the run's measured lost per design", b)
	}
	tc.send(map[string]any{"type": "end"})
	ac.until("the end, with the results", has(msgRoom, `"ended":true`, `"results":[{"id":1`, `"distribution":[{"answer":"5","count":1}]`))
	if res, page := ada.do(http.MethodGet, "/r/"+code, nil); res.StatusCode != http.StatusGone || !strings.Contains(page, "How many lost?") {
		t.Fatalf("an ended room's page: %s; want 410 with its results", res.Status)
	}
}

func TestALessonsPredictStepBecomesAPollOnItsRun(t *testing.T) {
	s, ts := startRoomServer(t, Config{})
	l, at := twoWrites(t)
	pi := at[lessons.KindPredict]
	trainer := newPerson(t, ts.URL)
	code := trainer.startRoom(url.Values{"design": {"outbox"}})
	tc := trainer.socket(code)
	tc.until("the first run", has(msgMeta, `"design":"outbox"`))
	tc.send(map[string]any{"type": "lesson-step", "lesson": l.ID, "step": pi})
	run := l.Steps[l.RunStep(pi)].Run
	// JSON writes & as \u0026.
	got := tc.untilAll("the lesson's run and its question as a poll",
		has(msgMeta, `"query":"`+strings.ReplaceAll(run.Scenario.Query(), "&", `\u0026`)+`"`), has(msgRoom, `"state":"open"`))
	b := got[1]
	if !strings.Contains(string(b), l.Steps[pi].Title) {
		t.Fatalf("poll %s: want the predict step's question %q", b, l.Steps[pi].Title)
	}
	row, err := s.rooms.store.row(t.Context(), code)
	if err != nil || row.query != run.Scenario.Query() {
		t.Fatalf("stored scenario %q (%v), want the lesson's %q", row.query, err, run.Scenario.Query())
	}
	tc.send(map[string]any{"type": "lesson-step", "lesson": l.ID, "step": 0})
	if b := tc.until("a refusal", has(msgError)); !strings.Contains(string(b), "allowed: a run or predict step") {
		t.Fatalf("a read step: %s", b)
	}
}

func TestARoomIdleFor12HoursEnds(t *testing.T) {
	s, ts := startRoomServer(t, Config{})
	code := newPerson(t, ts.URL).startRoom(roomScenario)
	s.rooms.endExpired(time.Now().Add(roomIdleExpiry - time.Minute))
	if res, _ := newPerson(t, ts.URL).do(http.MethodGet, "/r/"+code, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("a room idle for less than 12 hours: %s, want it open", res.Status)
	}
	s.rooms.endExpired(time.Now().Add(roomIdleExpiry + time.Minute))
	res, page := newPerson(t, ts.URL).do(http.MethodGet, "/r/"+code, nil)
	if res.StatusCode != http.StatusGone || !strings.Contains(page, "has ended") {
		t.Fatalf("a room idle for 12 hours: %s %.200s, want 410 saying it ended", res.Status, page)
	}
	if row, err := s.rooms.store.row(t.Context(), code); err != nil || !row.ended {
		t.Fatalf("stored room %+v %v: want it ended", row, err)
	}
}
