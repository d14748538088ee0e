package web

// The room's pages and socket.
//
//	POST /rooms                 create a room on the posted scenario (the
//	                            playground's form fields, or lesson=<id>);
//	                            303 to /r/<CODE> with the trainer's cookie
//	GET  /r/<CODE>              the room: the trainer's page, a participant's,
//	                            or the join form; an unknown code is a 404
//	                            page, an ended room a 410 page with its results
//	POST /r/<CODE>/join         join with name=<display name, optional>
//	GET  /r/<CODE>/ws           the room's socket (trainer or participant)
//	GET  /r/<CODE>/results.csv  every answer to every poll, trainer only
//
// The room socket speaks the run socket's protocol (ws.go): every socket
// follows the room's session, and the trainer's run, play, pause, step,
// seek and speed messages move it for everyone; anyone else's are refused
// with an error and change nothing. Besides, the client sends:
//
//	{"type":"poll-open","question":"How many lost?","kind":"number","metric":"lost"}
//	{"type":"poll-open","question":"Which converges?","kind":"choice","choices":["A","B"]}
//	{"type":"poll-close"}  {"type":"poll-reveal"}  {"type":"end"}     trainer only
//	{"type":"lesson-step","lesson":"two-writes","step":3}              trainer only:
//	    show a lesson's run step, or the run a predict step asks about,
//	    paused at its start; a predict step is opened as a poll
//	{"type":"answer","poll":1,"answer":"12"}                           participants only
//
// and the server sends, besides the run's messages:
//
//	{"type":"room","code":"ABC234","ended":false,"poll":{"id":1,"question":…,
//	  "kind":"number","metric":"lost","state":"open","answers":3,
//	  "distribution":[{"answer":"12","count":2},…],"measured":[{"design":…,"value":…}],
//	  "expected":"…the right option of a lesson's choice, once revealed…"},
//	  "results":[…every poll, once ended…]}
//	    The room as everyone sees it: the latest poll, its distribution and
//	    what the run measured once revealed. Sent on connect and on change.
//	{"type":"room-people","joined":N,"connected":N,"names":[…],"answers":N}   trainer only
//	{"type":"you","name":"Ada","answers":{"1":"12"}}                    a participant's own

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"partialtruth/lessons"
	"partialtruth/sim"
	"partialtruth/web/ui"
)

// Cookies of a room, each with the path /r/<CODE>, so a browser holds one
// per room and sends it to the room's page, socket and results only.
const (
	// trainerCookie holds the trainer's secret: HttpOnly, SameSite=Strict.
	trainerCookie = "pt_trainer"
	// participantCookie holds a participant's random id.
	participantCookie = "pt_participant"
	roomCookieAge     = 7 * 24 * time.Hour
)

// Join rate limits, per client address: a burst for a class behind one
// address, then one join every joinEvery.
const (
	defaultJoinBurst = 60
	defaultJoinEvery = 500 * time.Millisecond
	maxRoomFormBytes = 16 << 10
)

func (s *Server) roomRoutes(r chi.Router) {
	r.Post("/rooms", s.handleCreateRoom)
	r.Get("/r/{code}", s.handleRoom)
	r.Post("/r/{code}/join", s.handleJoin)
	r.Get("/r/{code}/ws", s.handleRoomSocket)
	r.Get("/r/{code}/results.csv", s.handleRoomResults)
}

func roomPath(code string) string { return "/r/" + code }

// setRoomCookie sets one of a room's cookies.
func setRoomCookie(w http.ResponseWriter, r *http.Request, code, name, value string, same http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: roomPath(code), MaxAge: int(roomCookieAge / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: same})
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// roomMessage renders the page that says why a room cannot be shown.
func (s *Server) roomMessage(w http.ResponseWriter, r *http.Request, status int, title, msg string, results []ui.PollResult) {
	s.render(w, r, status, ui.RoomMessagePage(ui.RoomMessage{Title: title, Message: msg, Results: results}))
}

// limited takes a join token for the request's address, or answers 429.
func (s *Server) limited(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.joins.allow(clientAddress(r))
	if ok {
		return false
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.roomMessage(w, r, http.StatusTooManyRequests, "Too many tries",
		fmt.Sprintf("Too many rooms created or joined from your address (%s) just now. Wait %d s and try again.", clientAddress(r), secs), nil)
	return true
}

// handleCreateRoom is "Start a room": the posted scenario becomes the
// room's, and its creator its trainer.
func (s *Server) handleCreateRoom(w http.ResponseWriter, r *http.Request) {
	if s.limited(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRoomFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &StatusError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("the form could not be read: %v", err)})
		return
	}
	form := r.PostForm
	if form.Get("example") != "" { // the front page's button: the handbook's example
		form, _ = url.ParseQuery(exampleQuery)
	}
	scs, err := webScenarios(form.Get, form.Get("compare"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	speed := float64(defaultSpeed)
	if v := form.Get("speed"); v != "" {
		f, perr := strconv.ParseFloat(v, 64)
		if speed, err = checkSpeed(f); perr != nil || err != nil {
			s.fail(w, r, &sim.InputError{Field: "speed", Msg: fmt.Sprintf("speed %q is not valid; allowed: %s", v, sim.SpeedAllowed)})
			return
		}
	}
	room, secret, err := s.rooms.create(r.Context(), scs, speed)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("room created", "code", room.code, "query", scs[0].Query())
	setRoomCookie(w, r, room.code, trainerCookie, secret, http.SameSiteStrictMode)
	http.Redirect(w, r, roomPath(room.code), http.StatusSeeOther)
}

// lookupRoom finds the room of the URL's code, answering the request
// itself when there is none: a code in the wrong case is redirected, an
// impossible or unknown one is a 404 page (and counts as a join try), an
// ended room a 410 page with its results unless ok411 is set.
func (s *Server) lookupRoom(w http.ResponseWriter, r *http.Request, endedOK bool) (*room, bool) {
	typed := chi.URLParam(r, "code")
	code, valid := normalCode(typed)
	if valid && code != typed && r.Method == http.MethodGet {
		http.Redirect(w, r, strings.Replace(r.URL.Path, "/r/"+typed, "/r/"+code, 1), http.StatusMovedPermanently)
		return nil, false
	}
	var room *room
	err := errNoSuchRoom
	if valid {
		room, err = s.rooms.get(r.Context(), code)
	}
	switch {
	case errors.Is(err, errNoSuchRoom):
		if s.limited(w, r) {
			return nil, false
		}
		s.roomMessage(w, r, http.StatusNotFound, "No such room",
			fmt.Sprintf("There is no room with the code %.12q. Check the code with your trainer: it has six letters and digits, such as %s.", typed, "K7MQ2R"), nil)
		return nil, false
	case err != nil:
		s.fail(w, r, err)
		return nil, false
	}
	if room.isEnded() && !endedOK {
		s.roomMessage(w, r, http.StatusGone, "This room has ended",
			fmt.Sprintf("Room %s has ended. Thank you for taking part.", code), room.results())
		return nil, false
	}
	return room, true
}

// handleRoom is the room's page for whoever asks: the trainer (by the
// secret cookie), a participant who joined (by the id cookie), or the
// join form.
func (s *Server) handleRoom(w http.ResponseWriter, r *http.Request) {
	room, ok := s.lookupRoom(w, r, false)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case room.isTrainer(cookieValue(r, trainerCookie)):
		s.renderRoom(w, r, room, "trainer")
	case room.isParticipant(cookieValue(r, participantCookie)):
		s.renderRoom(w, r, room, "participant")
	default:
		s.render(w, r, http.StatusOK, ui.RoomJoinPage(ui.RoomJoin{Code: room.code}))
	}
}

// handleJoin adds the browser to the room as a participant, unless it is
// one already, the room is full, or the address tried too often.
func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	room, ok := s.lookupRoom(w, r, false)
	if !ok {
		return
	}
	if room.isParticipant(cookieValue(r, participantCookie)) || room.isTrainer(cookieValue(r, trainerCookie)) {
		http.Redirect(w, r, roomPath(room.code), http.StatusSeeOther)
		return
	}
	if s.limited(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRoomFormBytes)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, &StatusError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("the form could not be read: %v", err)})
		return
	}
	typed := r.PostForm.Get("name")
	name, err := checkName(typed)
	if err != nil {
		s.render(w, r, http.StatusBadRequest, ui.RoomJoinPage(ui.RoomJoin{Code: room.code, Name: typed, Error: err.Error()}))
		return
	}
	p, err := room.join(r.Context(), name)
	switch {
	case errors.Is(err, errRoomFull):
		s.roomMessage(w, r, http.StatusForbidden, "This room is full",
			fmt.Sprintf("Room %s is full: it holds at most %d participants. Ask your trainer to start another room.", room.code, room.maxSize), nil)
		return
	case errors.Is(err, errRoomEnded):
		s.roomMessage(w, r, http.StatusGone, "This room has ended", fmt.Sprintf("Room %s has ended.", room.code), room.results())
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	setRoomCookie(w, r, room.code, participantCookie, p.id, http.SameSiteLaxMode)
	http.Redirect(w, r, roomPath(room.code), http.StatusSeeOther)
}

// handleRoomSocket serves the room's socket to its trainer or one of its
// participants; anyone else is refused before the upgrade.
func (s *Server) handleRoomSocket(w http.ResponseWriter, r *http.Request) {
	room, ok := s.lookupRoom(w, r, false)
	if !ok {
		return
	}
	m := &roomMember{room: room}
	switch who := cookieValue(r, participantCookie); {
	case room.isTrainer(cookieValue(r, trainerCookie)):
		m.trainer = true
	case room.isParticipant(who):
		m.who = who
	default:
		s.fail(w, r, &StatusError{Status: http.StatusForbidden, Msg: fmt.Sprintf("join room %s at %s first", room.code, roomPath(room.code))})
		return
	}
	s.serveViewer(w, r.WithContext(withViewerExt(r.Context(), m)), room.sess)
}

// handleRoomResults downloads every answer of every poll as CSV, for the
// trainer only. Every cell is plain text: one that a spreadsheet would
// read as a formula is prefixed with an apostrophe.
func (s *Server) handleRoomResults(w http.ResponseWriter, r *http.Request) {
	room, ok := s.lookupRoom(w, r, true)
	if !ok {
		return
	}
	if !room.isTrainer(cookieValue(r, trainerCookie)) {
		s.fail(w, r, &StatusError{Status: http.StatusForbidden, Msg: fmt.Sprintf("the results of room %s are for its trainer only", room.code)})
		return
	}
	rows, err := s.rooms.store.results(r.Context(), room.code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="room-%s-results.csv"`, room.code))
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"poll", "question", "kind", "state", "participant", "name", "answer", "answered_at"})
	for _, row := range rows {
		cw.Write([]string{strconv.Itoa(row.poll), csvCell(row.question), row.kind, row.state, row.participant,
			csvCell(row.name), csvCell(row.answer), row.answeredAt})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.log.Error("writing results", "code", room.code, "err", err)
	}
}

// csvCell makes text safe to open in a spreadsheet: a cell that starts
// with = + - @ or a tab or carriage return would be read as a formula, so
// it gets a leading apostrophe (OWASP's advice for CSV injection). A
// number answer such as -3 keeps its sign: it is written as the number.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// results is every poll of the room with its distribution, for the
// ended room's page.
func (r *room) results() []ui.PollResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ui.PollResult
	for _, p := range r.polls {
		res := ui.PollResult{Question: p.Question, Answers: len(p.answers)}
		for _, sh := range distribution(p) {
			res.Shares = append(res.Shares, ui.Share{Answer: sh.Answer, Count: sh.Count})
		}
		for _, m := range p.Measured {
			res.Measured = append(res.Measured, m.Design+": "+string(m.Value))
		}
		out = append(out, res)
	}
	return out
}

// renderRoom renders the room's page for a role; its root carries the
// room's code and the role.
func (s *Server) renderRoom(w http.ResponseWriter, r *http.Request, room *room, role string) {
	v := ui.RoomView{Code: room.code, Role: role, JoinURL: s.joinURL(r, room.code), Metrics: allMetrics(),
		Designs: designOptions(), Speeds: playerSpeeds(), DefaultSpeed: strconv.Itoa(defaultSpeed)}
	if role == "trainer" {
		v.Lessons = lessonSteps(s.lessons)
		svg, err := qrSVG(v.JoinURL)
		if err != nil {
			s.log.Error("QR code", "url", v.JoinURL, "err", err)
		}
		v.QRSVG = svg
	}
	ctx := ui.WithRootAttrs(r.Context(), templ.Attributes{"data-room": room.code, "data-role": role})
	s.render(w, r.WithContext(ctx), http.StatusOK, ui.RoomPage(v))
}

// lessonSteps lists every lesson's run and predict steps, which a room
// can show.
func lessonSteps(ls []*lessons.Lesson) []ui.LessonSteps {
	var out []ui.LessonSteps
	for n, l := range ls {
		g := ui.LessonSteps{Title: fmt.Sprintf("Lesson %d: %s", n+1, l.Title)}
		for i, st := range l.Steps {
			if st.Kind == lessons.KindRun || st.Kind == lessons.KindPredict && l.RunStep(i) >= 0 {
				g.Steps = append(g.Steps, ui.StepOption{Value: fmt.Sprintf("%s:%d", l.ID, i),
					Label: fmt.Sprintf("%d. %s: %s", i+1, ui.Title(string(st.Kind)), stepTitle(st))})
			}
		}
		if len(g.Steps) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// joinURL is the link participants open: the server's public origin
// (-public-url) when set, else its own name as the request reached it,
// which the Host allow-list has already checked.
func (s *Server) joinURL(r *http.Request, code string) string {
	return s.hosts.origin(r) + roomPath(code)
}

// viewerExtKey holds, in a socket request's context, what a room adds to
// its viewer.
type viewerExtKey struct{}

func withViewerExt(ctx context.Context, ext viewerExt) context.Context {
	return context.WithValue(ctx, viewerExtKey{}, ext)
}

// viewerExtOf is the request's viewer extension, nil for a plain viewer.
func viewerExtOf(ctx context.Context) viewerExt {
	ext, _ := ctx.Value(viewerExtKey{}).(viewerExt)
	return ext
}
