package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"partialtruth/checklist"
	"partialtruth/lessons"
	"partialtruth/sim"
	"partialtruth/web/ui"
)

// The lesson pages: /lessons is the path, /lessons/<id>?step=N one step.
// Every change a learner makes is a plain form POST answered with a
// redirect to the step it belongs to, so the pages work with the keyboard,
// without scripts, and the back button does not post twice. A refused
// answer is not redirected: the page comes back with a 400 and the message
// beside the field, and nothing saved changes.

// lessonRoutes adds the lesson pages to r.
func (s *Server) lessonRoutes(r chi.Router) {
	r.Get("/lessons", s.handleLessons)
	r.Get("/lessons/progress.json", s.handleExportProgress)
	r.Post("/lessons/progress", s.handleImportProgress)
	r.Get("/lessons/{id}", s.handleLesson)
	r.Post("/lessons/{id}/predict", s.handlePredict)
	r.Post("/lessons/{id}/challenge", s.handleChallenge)
	r.Post("/lessons/{id}/solution", s.handleSolution)
	r.Post("/lessons/{id}/reset", s.handleReset)
}

// progressOf is the mark /lessons shows for a lesson.
func progressOf(l *lessons.Lesson, p Progress) string {
	switch {
	case p.Solved || (challengeStep(l) < 0 && p.Step >= len(l.Steps)-1 && p.Step > 0):
		return ui.Done
	case p.started():
		return ui.InProgress
	}
	return ui.NotStarted
}

// challengeStep is the index of the lesson's challenge, -1 for none.
func challengeStep(l *lessons.Lesson) int {
	for i, st := range l.Steps {
		if st.Kind == lessons.KindChallenge {
			return i
		}
	}
	return -1
}

// entry is a lesson as the path lists it.
func (s *Server) entry(n int, l *lessons.Lesson, p Progress) ui.LessonEntry {
	e := ui.LessonEntry{
		N: n, ID: l.ID, Title: l.Title, Summary: l.Summary,
		Progress: progressOf(l, p), Step: min(p.Step, len(l.Steps)-1), Steps: len(l.Steps),
		SolutionShown: p.SolutionShown,
	}
	if e.Step >= 0 && e.Step < len(l.Steps) {
		e.StepTitle = stepTitle(l.Steps[e.Step])
	}
	for _, id := range l.Teaches {
		if it, ok := s.checklistItem(id); ok {
			e.Items = append(e.Items, ui.ItemLink{ID: it.ID, Title: it.Title})
		}
	}
	return e
}

func (s *Server) checklistItem(id string) (checklist.Item, bool) {
	for _, it := range checklist.Items() {
		if it.ID == id {
			return it, true
		}
	}
	return checklist.Item{}, false
}

// stepTitle is a step's heading, its kind when the file gives none.
func stepTitle(st *lessons.Step) string {
	if st.Title != "" {
		return st.Title
	}
	return strings.ToUpper(string(st.Kind[:1])) + string(st.Kind[1:])
}

// handleLessons is /lessons.
func (s *Server) handleLessons(w http.ResponseWriter, r *http.Request) {
	s.renderLessons(w, r, http.StatusOK, "", "")
}

func (s *Server) renderLessons(w http.ResponseWriter, r *http.Request, status int, notice, importErr string) {
	learner := learnerID(w, r)
	all, order, err := s.progress.all(r.Context(), learner)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	last := ""
	if len(order) > 0 {
		last = order[len(order)-1]
	}
	v := ui.LessonsIndex{Notice: notice, ImportError: importErr}
	for i, l := range s.lessons {
		e := s.entry(i+1, l, all[l.ID])
		v.Lessons = append(v.Lessons, e)
		if l.ID == last {
			c := e
			v.Continue = &c
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, ui.LessonsPage(v))
}

// lesson finds the lesson the URL names, or answers 404 with the way
// back to /lessons.
func (s *Server) lesson(w http.ResponseWriter, r *http.Request) (*lessons.Lesson, bool) {
	id := chi.URLParam(r, "id")
	l, ok := lessons.ByID(s.lessons, id)
	if !ok {
		s.notFound(w, r, fmt.Sprintf("There is no lesson %q here.", id), "/lessons", "See every lesson")
		return nil, false
	}
	return l, true
}

// notFound is a 404 page with a link back.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, msg, back, backText string) {
	s.render(w, r, http.StatusNotFound, ui.NotFoundPage(ui.NotFoundView{Message: msg, BackURL: back, BackText: backText}))
}

// lessonN is the lesson's 1-based place in the path.
func (s *Server) lessonN(l *lessons.Lesson) int {
	for i, x := range s.lessons {
		if x == l {
			return i + 1
		}
	}
	return 0
}

// handleLesson is /lessons/<id>: the step in ?step=, which becomes the
// learner's place, or the learner's place when there is none.
func (s *Server) handleLesson(w http.ResponseWriter, r *http.Request) {
	l, ok := s.lesson(w, r)
	if !ok {
		return
	}
	learner := learnerID(w, r)
	ctx := r.Context()
	var p Progress
	var err error
	if raw := r.URL.Query().Get("step"); raw != "" {
		step, perr := strconv.Atoi(raw)
		if perr != nil || step < 0 || step >= len(l.Steps) {
			s.notFound(w, r, fmt.Sprintf("Lesson %q has no step %q; its steps are 0 to %d.", l.ID, raw, len(l.Steps)-1), "/lessons/"+l.ID, "Back to the lesson")
			return
		}
		p, err = s.progress.update(ctx, learner, l.ID, func(p *Progress) error {
			p.Step = step
			return nil
		})
	} else {
		p, err = s.progress.get(ctx, learner, l.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderLesson(w, r, http.StatusOK, l, p, stepInput{})
}

// lessonSpeed is how fast a run step plays at first, in virtual
// milliseconds per real second: the speed of every play-through link.
var lessonSpeed = strconv.Itoa(sim.PlayThroughSpeed)

// stepInput is what a refused POST brings back to the page: the values as
// typed and the messages beside their fields.
type stepInput struct {
	answer, answerErr string
	fields            map[string]string // challenge values as typed
	fieldErrs         map[string]string
	formErr           string
}

// renderLesson writes the lesson page at the learner's step.
func (s *Server) renderLesson(w http.ResponseWriter, r *http.Request, status int, l *lessons.Lesson, p Progress, in stepInput) {
	step := min(max(p.Step, 0), len(l.Steps)-1)
	v := ui.LessonView{Entry: s.entry(s.lessonN(l), l, p)}
	for i, st := range l.Steps {
		v.Steps = append(v.Steps, ui.StepLink{Index: i, Kind: string(st.Kind), Title: stepTitle(st), Seen: i < step})
	}
	sv, err := s.stepView(r, l, step, p, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Step = sv
	if step > 0 {
		v.PrevURL = ui.StepURL(l.ID, step-1)
	}
	if step < len(l.Steps)-1 {
		v.NextURL = ui.StepURL(l.ID, step+1)
	} else if n := s.lessonN(l); n < len(s.lessons) {
		next := s.entry(n+1, s.lessons[n], Progress{})
		v.NextLesson = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	ctx := ui.WithRootAttrs(r.Context(), templ.Attributes{"data-lesson-step": strconv.Itoa(step)})
	s.render(w, r.WithContext(ctx), status, ui.LessonPage(v))
}

// postedLesson is the lesson a POST names, its learner and the step the
// form belongs to; it refuses a cross-site POST.
func (s *Server) postedLesson(w http.ResponseWriter, r *http.Request) (*lessons.Lesson, string, bool) {
	if !s.sameOrigin(r) {
		s.fail(w, r, &StatusError{Status: http.StatusForbidden, Msg: "a lesson form may be sent only from this site"})
		return nil, "", false
	}
	l, ok := s.lesson(w, r)
	if !ok {
		return nil, "", false
	}
	return l, learnerID(w, r), true
}

// formStep reads the form's step and checks it is of kind.
func formStep(l *lessons.Lesson, r *http.Request, kind lessons.Kind) (int, error) {
	raw := r.PostFormValue("step")
	step, err := strconv.Atoi(raw)
	if err != nil || step < 0 || step >= len(l.Steps) || l.Steps[step].Kind != kind {
		return 0, &StatusError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("step %q of lesson %q is not a %s step", raw, l.ID, kind)}
	}
	return step, nil
}

// seeOther redirects after a POST to the step it belongs to.
func seeOther(w http.ResponseWriter, r *http.Request, lesson string, step int) {
	http.Redirect(w, r, ui.StepURL(lesson, step), http.StatusSeeOther)
}

// handlePredict saves a prediction, unless its reveal has been seen. An
// answer out of range is refused beside the field.
func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	l, learner, ok := s.postedLesson(w, r)
	if !ok {
		return
	}
	step, err := formStep(l, r, lessons.KindPredict)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pr := l.Steps[step].Predict
	raw := strings.TrimSpace(r.PostFormValue("answer"))
	refuse := func(msg string) {
		p, err := s.progress.get(r.Context(), learner, l.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Step = step // shown at the form's step; not saved
		s.renderLesson(w, r, http.StatusBadRequest, l, p, stepInput{answer: raw, answerErr: msg})
	}
	if raw == "" {
		if pr.IsChoice() {
			refuse("Pick one of the answers.")
		} else {
			refuse(fmt.Sprintf("Type a whole number from %d to %d.", pr.Min, pr.Max))
		}
		return
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		if pr.IsChoice() {
			refuse(fmt.Sprintf("answer %q is not one of the choices", raw))
		} else {
			refuse(fmt.Sprintf("prediction %q is not a whole number; allowed: %d to %d", raw, pr.Min, pr.Max))
		}
		return
	}
	if err := pr.Validate(v); err != nil {
		refuse(err.Error())
		return
	}
	_, err = s.progress.update(r.Context(), learner, l.ID, func(p *Progress) error {
		if revealed(l, step, *p) {
			return &StatusError{Status: http.StatusConflict, Msg: "this prediction's reveal has been seen; it can no longer change (reset the lesson to start over)"}
		}
		if p.Predictions == nil {
			p.Predictions = map[int]string{}
		}
		p.Predictions[step] = strconv.FormatInt(v, 10)
		p.Step = step + 1
		return nil
	})
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusConflict {
			refuse(se.Msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	seeOther(w, r, l.ID, step+1)
}

// revealed says whether the learner has reached the reveal of the predict
// step: from then on the prediction is part of the record.
func revealed(l *lessons.Lesson, predict int, p Progress) bool {
	for i, st := range l.Steps {
		if st.Kind == lessons.KindReveal && st.Reveal.Predict == predict && p.Step >= i {
			return true
		}
	}
	return false
}

// handleSolution shows the challenge's solution, once the learner has
// tried at least once, and marks it shown for good.
func (s *Server) handleSolution(w http.ResponseWriter, r *http.Request) {
	l, learner, ok := s.postedLesson(w, r)
	if !ok {
		return
	}
	step := challengeStep(l)
	if step < 0 {
		s.fail(w, r, &StatusError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("lesson %q has no challenge", l.ID)})
		return
	}
	_, err := s.progress.update(r.Context(), learner, l.ID, func(p *Progress) error {
		if p.Tries == 0 {
			return &StatusError{Status: http.StatusBadRequest, Msg: "try the challenge at least once before asking for the solution"}
		}
		p.SolutionShown = true
		p.Step = step
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, ui.StepURL(l.ID, step)+"#solution-title", http.StatusSeeOther)
}

// handleReset throws the learner's work in the lesson away; the page asks
// first (the reset button sits inside a closed "Reset this lesson…").
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	l, learner, ok := s.postedLesson(w, r)
	if !ok {
		return
	}
	if err := s.progress.reset(r.Context(), learner, l.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/lessons/"+l.ID, http.StatusSeeOther)
}

// handleExportProgress is /lessons/progress.json: the learner's progress
// as a file to import in another browser.
func (s *Server) handleExportProgress(w http.ResponseWriter, r *http.Request) {
	learner := learnerID(w, r)
	all, order, err := s.progress.all(r.Context(), learner)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := encodeProgress(all, order)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="partialtruth-progress.json"`)
	h.Set("Cache-Control", "no-store")
	w.Write(b)
}

// handleImportProgress reads a progress file (a multipart upload, field
// "file") and makes it this learner's progress. A file that is malformed,
// foreign or names what this server does not have is refused with a
// message on /lessons, and nothing changes.
func (s *Server) handleImportProgress(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		s.fail(w, r, &StatusError{Status: http.StatusForbidden, Msg: "progress may be imported only from this site"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxProgressFile+4096)
	refuse := func(msg string) {
		s.renderLessons(w, r, http.StatusBadRequest, "", "Nothing was imported: "+msg)
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(fmt.Sprintf("the file is larger than %d KB; a progress file takes a few", maxProgressFile>>10))
		} else {
			refuse("choose a progress file to import")
		}
		return
	}
	defer file.Close()
	b, err := io.ReadAll(io.LimitReader(file, maxProgressFile+1))
	if err != nil {
		refuse("the file could not be read: " + err.Error())
		return
	}
	if len(b) > maxProgressFile {
		refuse(fmt.Sprintf("the file is larger than %d KB; a progress file takes a few", maxProgressFile>>10))
		return
	}
	f, err := decodeProgress(b, s.checkImported)
	if err != nil {
		refuse(err.Error())
		return
	}
	learner := learnerID(w, r)
	if err := s.progress.replace(r.Context(), learner, f.Order, f.Lessons); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderLessons(w, r, http.StatusOK, fmt.Sprintf("Imported your progress in %d lessons.", len(f.Lessons)), "")
}

// checkImported checks one lesson's progress from a file against the
// lesson on this server: it exists, the step is one of its steps, each
// prediction belongs to a predict step and is in its range, and the
// challenge scenario runs here.
func (s *Server) checkImported(id string, p Progress) error {
	l, ok := lessons.ByID(s.lessons, id)
	if !ok {
		return errors.New("there is no such lesson on this server")
	}
	if p.Step >= len(l.Steps) {
		return fmt.Errorf("step %d is out of range; allowed: 0 to %d", p.Step, len(l.Steps)-1)
	}
	for step, ans := range p.Predictions {
		if step < 0 || step >= len(l.Steps) || l.Steps[step].Kind != lessons.KindPredict {
			return fmt.Errorf("step %d is not a predict step", step)
		}
		v, err := strconv.ParseInt(ans, 10, 64)
		if err != nil {
			return fmt.Errorf("prediction %q of step %d is not a whole number", ans, step)
		}
		if err := l.Steps[step].Predict.Validate(v); err != nil {
			return fmt.Errorf("step %d: %v", step, err)
		}
	}
	if p.Challenge != "" {
		if _, err := s.challengeScenario(l, p.Challenge); err != nil {
			return fmt.Errorf("challenge scenario %q: %v", p.Challenge, err)
		}
	}
	if (p.Solved || p.SolutionShown) && p.Tries == 0 {
		return errors.New("solved or solution shown with no try")
	}
	return nil
}

// stepView builds the step on screen from the lesson and the learner's
// progress; in carries a refused POST's values and messages.
func (s *Server) stepView(r *http.Request, l *lessons.Lesson, step int, p Progress, in stepInput) (ui.StepView, error) {
	st := l.Steps[step]
	body, err := l.Render(step)
	if err != nil {
		return ui.StepView{}, fmt.Errorf("lesson %s step %d: %w", l.ID, step, err)
	}
	v := ui.StepView{Index: step, Kind: string(st.Kind), Title: stepTitle(st), Body: string(body)}
	switch st.Kind {
	case lessons.KindPredict:
		pr := st.Predict
		pv := &ui.PredictView{Min: strconv.FormatInt(pr.Min, 10), Max: strconv.FormatInt(pr.Max, 10), Error: in.answerErr, Locked: revealed(l, step, p)}
		pv.Question = v.Title
		for i, o := range pr.Options {
			pv.Choices = append(pv.Choices, ui.Choice{Value: strconv.Itoa(i), Label: o.Text})
		}
		if saved, ok := p.Predictions[step]; ok {
			pv.Answer, pv.Saved = saved, true
		}
		if in.answerErr != "" {
			pv.Answer, pv.Saved = in.answer, false
		}
		v.Predict = pv
	case lessons.KindRun:
		v.Run = &ui.RunView{ID: "run-", Query: st.Run.Query(), Autoplay: true, Speed: lessonSpeed, Speeds: playerSpeeds(),
			Caption: "Play, pause and step it as in the playground; the counters, the diagram and the code are the run's own. "}
	case lessons.KindReveal:
		if st.Reveal.Predict >= 0 {
			rv, err := s.revealView(l, step, p)
			if err != nil {
				return v, err
			}
			v.Reveals = append(v.Reveals, rv)
		}
		if at := l.RunStep(step); at >= 0 && l.Steps[at].Run != nil {
			v.Replay = &ui.RunView{ID: "replay-", Query: l.Steps[at].Run.Query(), Autoplay: true, Speed: "0", Speeds: playerSpeeds(),
				Caption: "The run you watched, played through. "}
		}
	case lessons.KindChallenge:
		cv, err := s.challengeView(r, l, step, p, in)
		if err != nil {
			return v, err
		}
		v.Challenge = &cv
	}
	return v, nil
}

// revealView puts the learner's prediction beside the run's measure.
func (s *Server) revealView(l *lessons.Lesson, step int, p Progress) (ui.RevealView, error) {
	st := l.Steps[step]
	pi := st.Reveal.Predict
	pr := l.Steps[pi].Predict
	res, _, err := l.Result(step)
	if err != nil {
		return ui.RevealView{}, fmt.Errorf("lesson %s step %d: %w", l.ID, step, err)
	}
	right, measured, err := l.Measured(step)
	if err != nil {
		return ui.RevealView{}, fmt.Errorf("lesson %s step %d: %w", l.ID, step, err)
	}
	rv := ui.RevealView{Question: stepTitle(l.Steps[pi]), Measured: measured, Key: pr.Key}
	if ans, ok := p.Predictions[pi]; ok {
		if n, err := strconv.ParseInt(ans, 10, 64); err == nil {
			rv.Prediction = pr.Format(n)
			rv.Right = n == right
		}
	}
	// The button is for a lesson whose prose has no event link of its own.
	body, _ := l.Render(step)
	if ev := st.Reveal.Event; ev != "" && !strings.Contains(string(body), `href="#event-`) {
		if id := res.Report.FirstViolation[ev]; id > 0 {
			rv.EvidenceURL = fmt.Sprintf("#event-%d", id)
		}
	}
	return rv, nil
}

// A challenge's answer travels as form values and is kept, as the
// learner's last answer, in Progress.Challenge as a URL query: a run
// challenge's scenario in the share-link form, a query challenge's db and
// sql, a review challenge's items.

// challengeAnswer reads the learner's answer from form values. Errors are
// *sim.InputError naming the form field at fault.
func (s *Server) challengeAnswer(c *lessons.Challenge, form url.Values) (lessons.Answer, string, error) {
	switch c.Kind {
	case lessons.ChallengeQuery:
		q := lessons.Query{DB: strings.TrimSpace(form.Get("db")), SQL: strings.TrimSpace(form.Get("sql"))}
		if q.SQL == "" {
			return lessons.Answer{}, "", &sim.InputError{Field: "sql", Msg: "the query is empty; write one SELECT whose first column is payment ids"}
		}
		keep := url.Values{"db": {q.DB}, "sql": {q.SQL}}
		return lessons.Answer{Query: q}, keep.Encode(), nil
	case lessons.ChallengeReview:
		items := form["items"]
		for _, id := range items {
			if _, ok := checklist.ItemByID(id); !ok {
				return lessons.Answer{}, "", &sim.InputError{Field: "items", Msg: fmt.Sprintf("checklist item %q is unknown", id)}
			}
		}
		return lessons.Answer{Items: items}, url.Values{"items": {strings.Join(items, ",")}}.Encode(), nil
	}
	sc, err := s.runChallengeScenario(c, form)
	if err != nil {
		return lessons.Answer{}, "", err
	}
	return lessons.Answer{Scenario: sc}, sc.Query(), nil
}

// runChallengeScenario is the start scenario with what the challenge's
// May allows taken from form: a parameter by its name, a single fault by
// the fault's name. It is parsed as the socket parses a scenario, with
// the web's payments limit.
func (s *Server) runChallengeScenario(c *lessons.Challenge, form url.Values) (sim.Scenario, error) {
	// A parameter the challenge keeps is refused, not ignored: the learner
	// must not believe the run used it.
	for _, name := range sim.ParamNames {
		if form.Has(name) && !slices.Contains(c.May, name) && strings.TrimSpace(form.Get(name)) != c.Start.Param(name) {
			return sim.Scenario{}, &sim.InputError{Field: name, Msg: fmt.Sprintf("this challenge keeps %s at %s; you may change: %s",
				name, c.Start.Param(name), strings.Join(c.May, ", "))}
		}
	}
	faults := c.Start.Faults
	for _, name := range c.May {
		f, ok := sim.LookupFault(name)
		if !ok {
			continue
		}
		raw := strings.TrimSpace(form.Get(name))
		p, err := strconv.ParseFloat(raw, 64)
		if err != nil || p < 0 || p > 1 {
			return sim.Scenario{}, &sim.InputError{Field: name, Msg: fmt.Sprintf("%s %q is out of range; allowed: a probability from 0 to 1", name, raw)}
		}
		faults = faults.Set(f, p)
	}
	get := func(name string) string {
		if slices.Contains(c.May, name) {
			return strings.TrimSpace(form.Get(name))
		}
		if name == "faults" {
			return faults.String()
		}
		return c.Start.Param(name)
	}
	sc, err := webScenario(get)
	if err != nil {
		return sc, err
	}
	return sc, c.Allowed(sc)
}

// challengeScenario reads a kept answer of lesson l's challenge back, to
// check an imported file.
func (s *Server) challengeScenario(l *lessons.Lesson, kept string) (lessons.Answer, error) {
	step := challengeStep(l)
	if step < 0 {
		return lessons.Answer{}, errors.New("the lesson has no challenge")
	}
	form, err := url.ParseQuery(kept)
	if err != nil {
		return lessons.Answer{}, err
	}
	a, _, err := s.challengeAnswer(l.Steps[step].Challenge, keptForm(l.Steps[step].Challenge, form))
	return a, err
}

// keptForm turns a kept answer back into the form values it came from:
// a scenario's faults become the single-fault fields, and review items
// their list.
func keptForm(c *lessons.Challenge, kept url.Values) url.Values {
	form := url.Values{}
	for k, v := range kept {
		form[k] = v
	}
	switch c.Kind {
	case lessons.ChallengeReview:
		if items := kept.Get("items"); items != "" {
			form["items"] = strings.Split(items, ",")
		} else {
			form["items"] = nil
		}
	case lessons.ChallengeRun:
		fs, err := sim.ParseFaults(kept.Get("faults"))
		if err != nil {
			break
		}
		for _, name := range c.May {
			if f, ok := sim.LookupFault(name); ok {
				form.Set(name, strconv.FormatFloat(fs[f], 'g', -1, 64))
			}
		}
	}
	return form
}

// judge checks an answer with the web's bounds: it waits for admission
// as the stream's runs do, charged to the learner's address, and a run
// challenge's run keeps to the web's event budget and stops when the
// request ends.
func (s *Server) judge(ctx context.Context, c *lessons.Challenge, a lessons.Answer) (lessons.Verdict, sim.Report, error) {
	kind := jobQuery
	if c.Kind == lessons.ChallengeRun {
		kind = runKind(a.Scenario)
	}
	release, err := s.recs.adm.admit(ctx, kind)
	if err != nil {
		return lessons.Verdict{}, sim.Report{}, err
	}
	defer release()
	if c.Kind != lessons.ChallengeRun {
		v, err := c.Check(ctx, a)
		return v, sim.Report{}, err
	}
	res, err := sim.RunContext(ctx, a.Scenario, nil, webOptions)
	if err != nil {
		return lessons.Verdict{}, sim.Report{}, err
	}
	if res.Report.Stopped == "cancelled" {
		return lessons.Verdict{}, sim.Report{}, context.Cause(ctx)
	}
	v, err := c.CheckRun(a.Scenario, res.Report)
	return v, res.Report, err
}

// handleChallenge checks the learner's answer on the server: it runs the
// learner's scenario (or query) and judges it with the lesson's check.
// The challenge is solved only when that run meets the goal; a refused
// answer changes nothing saved.
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	l, learner, ok := s.postedLesson(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	step, err := formStep(l, r, lessons.KindChallenge)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := l.Steps[step].Challenge
	ctx := r.Context()
	refuse := func(err error) {
		in := stepInput{fields: map[string]string{}, fieldErrs: map[string]string{}}
		for k := range r.PostForm {
			in.fields[k] = strings.Join(r.PostForm[k], ",")
		}
		var ie *sim.InputError
		if errors.As(err, &ie) && ie.Field != "" {
			in.fieldErrs[challengeFieldFor(c, ie.Field)] = ie.Msg
		} else {
			in.formErr = err.Error()
		}
		p, gerr := s.progress.get(ctx, learner, l.ID)
		if gerr != nil {
			s.fail(w, r, gerr)
			return
		}
		p.Step = step
		s.renderLesson(w, r, http.StatusBadRequest, l, p, in)
	}
	a, kept, err := s.challengeAnswer(c, r.PostForm)
	if err != nil {
		refuse(err)
		return
	}
	v, _, err := s.judge(ctx, c, a)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		var ie *sim.InputError
		if errors.As(err, &ie) {
			refuse(err)
			return
		}
		s.fail(w, r, err)
		return
	}
	_, err = s.progress.update(ctx, learner, l.ID, func(p *Progress) error {
		p.Tries++
		p.Challenge = kept
		p.Solved = p.Solved || v.Solved
		p.Step = step
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, ui.StepURL(l.ID, step)+"#verdict", http.StatusSeeOther)
}

// challengeFieldFor maps a refused parameter to the field that shows it:
// a scenario parameter the challenge does not let the learner change is
// shown on the form as a whole.
func challengeFieldFor(c *lessons.Challenge, field string) string {
	switch c.Kind {
	case lessons.ChallengeQuery:
		if field == "db" {
			return "db"
		}
		return "sql"
	case lessons.ChallengeReview:
		return "items"
	}
	if slices.Contains(c.May, field) {
		return field
	}
	return "form"
}

// challengeView is the challenge as the page shows it: its fields filled
// with the learner's last answer (or the start), and the verdict on it,
// judged again (runs are deterministic, so it is the verdict the learner
// got).
func (s *Server) challengeView(r *http.Request, l *lessons.Lesson, step int, p Progress, in stepInput) (ui.ChallengeView, error) {
	c := l.Steps[step].Challenge
	cv := ui.ChallengeView{Goal: challengeGoal(c), Tries: p.Tries, Solved: p.Solved, SolutionShown: p.SolutionShown, Error: in.formErr,
		Action: challengeAction[c.Kind]}
	if c.Kind == lessons.ChallengeQuery {
		// The run the query reads, with its Tables panel: the schemas are
		// there, and a query can be tried before it is sent.
		cv.Run = &ui.RunView{ID: "challenge-", Query: c.Start.Query(), Autoplay: true, Speed: "0", Speeds: playerSpeeds(),
			Caption: "The run your query reads, played through; open Tables under it to read each database's schema. "}
	}
	kept := url.Values{}
	if p.Challenge != "" {
		kept, _ = url.ParseQuery(p.Challenge)
	} else {
		kept = startForm(c)
	}
	values := keptForm(c, kept)
	if in.fields != nil {
		values = url.Values{}
		for k, v := range in.fields {
			values.Set(k, v)
		}
		if c.Kind == lessons.ChallengeReview {
			values["items"] = strings.Split(in.fields["items"], ",")
		}
	}
	fields, err := s.challengeFields(r.Context(), c, values, in.fieldErrs)
	if err != nil {
		return cv, err
	}
	cv.Fields = fields
	if p.Tries > 0 && p.Challenge != "" {
		a, err := s.challengeScenario(l, p.Challenge)
		if err == nil {
			v, rep, err := s.judge(r.Context(), c, a)
			if err == nil {
				cv.Tried, cv.Verdict, cv.LastSolved = true, v.Why, v.Solved
				if c.Kind == lessons.ChallengeRun {
					cv.Run = &ui.RunView{ID: "challenge-", Query: a.Scenario.Query(), Autoplay: true, Speed: "0", Speeds: playerSpeeds(),
						Caption: "Your last run, played through. "}
					cv.Results = goalResults(c, rep)
				}
			}
		}
	}
	if p.SolutionShown {
		cv.Solution = solutionHTML(c)
	}
	return cv, nil
}

// challengeAction is the challenge's button, by kind.
var challengeAction = map[lessons.ChallengeKind]string{
	lessons.ChallengeRun:    "Run and check",
	lessons.ChallengeQuery:  "Run the query and check",
	lessons.ChallengeReview: "Check my picks",
}

// startForm is the form a challenge starts with.
func startForm(c *lessons.Challenge) url.Values {
	switch c.Kind {
	case lessons.ChallengeQuery:
		return url.Values{"db": {c.StartQuery.DB}, "sql": {c.StartQuery.SQL}}
	case lessons.ChallengeReview:
		return url.Values{}
	}
	v, _ := url.ParseQuery(c.Start.Query())
	return v
}

// challengeFields are the inputs of the challenge's form, filled from
// values, each with its message from errs.
func (s *Server) challengeFields(ctx context.Context, c *lessons.Challenge, values url.Values, errs map[string]string) ([]ui.ChallengeField, error) {
	var out []ui.ChallengeField
	switch c.Kind {
	case lessons.ChallengeQuery:
		recs, err := s.recs.get(ctx, c.Start)
		if err != nil {
			return nil, err
		}
		db := ui.ChallengeField{Name: "db", Label: "Database", Value: values.Get("db"), Error: errs["db"]}
		for _, d := range recs[0].tables.Databases() {
			db.Options = append(db.Options, ui.Choice{Value: d.Name, Label: d.Name})
		}
		out = append(out, db, ui.ChallengeField{Name: "sql", Label: "Your query", Kind: "textarea", Value: values.Get("sql"), Error: errs["sql"],
			Help: "One read-only SELECT; its first column must be payment ids."})
	case lessons.ChallengeReview:
		f := ui.ChallengeField{Name: "items", Label: "The items " + c.Design + " fails", Kind: "checks", Error: errs["items"], Checked: values["items"]}
		for _, it := range checklist.Items() {
			f.Options = append(f.Options, ui.Choice{Value: it.ID, Label: it.Title})
		}
		out = append(out, f)
	default:
		for _, name := range c.May {
			f := ui.ChallengeField{Name: name, Label: ui.Title(name), Value: values.Get(name), Error: errs[name], Help: sim.ParamHelp(name)}
			if name == "design" {
				f.Help = "" // the options say it all
			}
			if fault, ok := sim.LookupFault(name); ok {
				f.Label, f.Help = name+" probability", fault.Summary()+" A probability from 0 to 1."
			}
			if name == "design" {
				for _, d := range sim.Designs() {
					f.Options = append(f.Options, ui.Choice{Value: d.Name, Label: d.Name + ": " + d.Summary})
				}
			}
			out = append(out, f)
		}
	}
	if len(out) > 0 && errs["form"] != "" {
		out[0].Error = errs["form"]
	}
	return out, nil
}

// challengeGoal states the goal in the report's vocabulary.
func challengeGoal(c *lessons.Challenge) string {
	esc := html.EscapeString
	switch c.Kind {
	case lessons.ChallengeQuery:
		return "<p>Write a query over one node's database, after the run, that returns exactly the payments the checker counts as <code>" + esc(c.Find) + "</code>.</p>"
	case lessons.ChallengeReview:
		return "<p>Pick every checklist item that <code>" + esc(c.Design) + "</code> fails under the standard scenario of <a href=\"/compare\">every design</a>.</p>"
	}
	var may []string
	for _, m := range c.May {
		may = append(may, "<code>"+esc(m)+"</code>")
	}
	return "<p>Make a run where <code>" + esc(c.Goal.String()) + "</code>.</p><p>You may change: " + strings.Join(may, ", ") + ". Everything else stays as in the lesson's run.</p>"
}

// goalResults are the values the goal reads, from the learner's run.
func goalResults(c *lessons.Challenge, rep sim.Report) []ui.ResultLine {
	ok, _ := c.Goal.Eval(rep)
	var out []ui.ResultLine
	for _, k := range c.Goal.Keys() {
		got := "not measured"
		if v, err := lessons.ReportValue(rep, k); err == nil {
			got = strconv.FormatInt(v, 10)
		}
		out = append(out, ui.ResultLine{Key: k, Got: got, OK: ok})
	}
	return out
}

// solutionHTML is the lesson's own solution.
func solutionHTML(c *lessons.Challenge) string {
	esc := html.EscapeString
	switch c.Kind {
	case lessons.ChallengeQuery:
		return "<p>On <code>" + esc(c.SolutionQuery.DB) + "</code>:</p><pre><code>" + esc(c.SolutionQuery.SQL) + "</code></pre>"
	case lessons.ChallengeReview:
		var b strings.Builder
		b.WriteString("<ul>")
		for _, id := range c.SolutionItems {
			title := id
			if it, ok := checklist.ItemByID(id); ok {
				title = it.Title
			}
			b.WriteString(`<li><a href="/checklist#` + esc(id) + `">` + esc(title) + "</a></li>")
		}
		b.WriteString("</ul>")
		return b.String()
	}
	q := c.Solution.Query()
	return "<p>This run meets the goal:</p><pre><code>" + esc(q) + "</code></pre><p><a href=\"/play?" + esc(q) + "\">Open it in the playground</a></p>"
}

// playerSpeeds are the speeds a lesson's player offers: sim's table's.
func playerSpeeds() []ui.SpeedOption {
	p, _ := sim.LookupParam("speed")
	out := make([]ui.SpeedOption, 0, len(p.Choices))
	for _, c := range p.Choices {
		out = append(out, ui.SpeedOption{Value: c.Value, Label: c.Label})
	}
	return out
}
