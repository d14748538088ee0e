package web

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"partialtruth/sim"
)

// MaxWebPayments caps payments per run on the web, below sim's own limit,
// because a session keeps its whole run in memory to pace it (see
// MaxWebEvents, which bounds what a run holds whatever its payments).
const MaxWebPayments = 10_000

// maxStep caps one step message's |delta|.
const maxStep = 100_000

// handle applies one client message: a room's viewer hands it to its
// room, which decides who may do what; the playground's controls its own
// session.
func (v *viewer) handle(m clientMsg) {
	if v.ext != nil {
		v.ext.handle(v, m)
		return
	}
	v.control(m)
}

// control applies one control message to the viewer's session. Bad input
// is answered with an error message naming the field; the socket stays
// usable.
func (v *viewer) control(m clientMsg) {
	if m.Type == msgRun {
		v.handleRun(m)
		return
	}
	// While a run is being started, later messages wait for it, in
	// order: a page that sends a run and then a seek means the new run's
	// playhead.
	v.ctlMu.Lock()
	if v.waiting {
		if len(v.pending) >= maxQueued {
			v.ctlMu.Unlock()
			v.refuse("", fmt.Sprintf("more than %d messages sent while a run starts; wait for its meta", maxQueued))
			return
		}
		v.pending = append(v.pending, m)
		v.ctlMu.Unlock()
		return
	}
	v.ctlMu.Unlock()
	v.apply(m)
}

// apply does one playhead message.
func (v *viewer) apply(m clientMsg) {
	var err error
	switch m.Type {
	case msgPlay:
		err = v.sess.play()
	case msgPause:
		err = v.sess.pause()
	case msgStep:
		err = v.sess.step(m.Delta)
	case msgSeek:
		if m.Event != nil {
			side := 0
			if m.Side != nil {
				side = *m.Side
			}
			err = v.sess.seekEvent(side, *m.Event)
			break
		}
		if m.AtUs == nil {
			v.refuse("at_us", "seek at_us (missing) is not valid; allowed: a virtual time in microseconds, 0 or more, or an event (with its side)")
			return
		}
		err = v.sess.seek(*m.AtUs)
	case msgSpeed:
		if m.Speed == nil {
			v.refuse("speed", "speed is missing; allowed: "+sim.SpeedAllowed)
			return
		}
		err = v.sess.setSpeed(*m.Speed)
	default:
		v.refuse("", fmt.Sprintf("message type %q is unknown; allowed: run, play, pause, step, seek, speed", m.Type))
		return
	}
	var ie *sim.InputError
	switch {
	case err == nil:
	case errors.Is(err, errNoRun):
		v.refuse("", fmt.Sprintf("%s needs a run; send a run message first", m.Type))
	case errors.As(err, &ie):
		v.refuse(ie.Field, ie.Msg)
	default:
		v.refuse("", err.Error())
	}
}

// handleRun validates a run message and has the session simulate its
// sides (or take them from the cache) and make it the current run,
// replacing any other.
func (v *viewer) handleRun(m clientMsg) {
	speed := float64(defaultSpeed)
	if m.Speed != nil {
		var err error
		if speed, err = checkSpeed(*m.Speed); err != nil {
			v.refuse("speed", err.Error())
			return
		}
	}
	scenarios, err := parseRun(m.Params, m.Compare)
	var ie *sim.InputError
	switch {
	case errors.As(err, &ie):
		v.refuse(ie.Field, ie.Msg)
		return
	case err != nil:
		v.refuse("", err.Error())
		return
	}
	// The run starts apart from the reader, which goes on reading (and
	// answering pings) however long the run waits for a slot: a newer run
	// message cancels this one's wait.
	v.ctlMu.Lock()
	v.starting++
	gen := v.starting
	v.waiting = true
	v.pending = nil // they were for the run this one replaces
	v.ctlMu.Unlock()
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		defer v.drain(gen)
		err := v.sess.start(v.ctx, scenarios, speed, m.Autoplay)
		var busy *busyError
		switch {
		case err == nil || v.ctx.Err() != nil:
		case errors.As(err, &busy), errors.Is(err, errServerClosing):
			v.refuse("", err.Error())
		case errors.As(err, &ie):
			v.refuse(ie.Field, ie.Msg)
		default:
			q := scenarios[0].Query()
			v.s.log.Error("run failed", "query", q, "compare", m.Compare, "err", err)
			v.refuse("", fmt.Sprintf("the run of %s failed; the server log has the details", q))
		}
	}()
}

// drain applies the messages that waited for run start gen, in order,
// unless a newer run took over; then later messages apply at once again.
func (v *viewer) drain(gen uint64) {
	for {
		v.ctlMu.Lock()
		if v.starting != gen {
			v.ctlMu.Unlock()
			return
		}
		if len(v.pending) == 0 {
			v.waiting = false
			v.ctlMu.Unlock()
			return
		}
		m := v.pending[0]
		v.pending = v.pending[1:]
		v.ctlMu.Unlock()
		v.apply(m)
	}
}

// parseRun turns a run message's params into one scenario, or two in
// compare mode (the same params with the design replaced). Errors are
// *sim.InputError naming the field.
func parseRun(raw map[string]any, compare string) ([]sim.Scenario, error) {
	params := make(map[string]string, len(raw))
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(sim.ParamNames, name) {
			return nil, &sim.InputError{Field: name, Msg: fmt.Sprintf("parameter %q is unknown; allowed: %s", name, strings.Join(sim.ParamNames, ", "))}
		}
		v, ok := raw[name].(string)
		if !ok {
			return nil, &sim.InputError{Field: name, Msg: fmt.Sprintf("%s %v is not a string; allowed: the value as a string, as in the URL (%s)", name, raw[name], sim.ParamHelp(name))}
		}
		params[name] = v
	}
	return webScenarios(func(name string) string { return params[name] }, compare)
}

// webScenarios is the scenario a page or a socket asks for, and its compare
// partner if compare names one (the same scenario with the design
// replaced). The playground page and the socket both parse through here, so
// a link the page accepts is one the socket runs, with the same messages.
// When only the compare partner is bad, the scenario itself still comes
// back with the error, so a form can keep showing what was asked for.
func webScenarios(get func(name string) string, compare string) ([]sim.Scenario, error) {
	sc, err := webScenario(get)
	if err != nil {
		return nil, err
	}
	out := []sim.Scenario{sc}
	if compare != "" {
		other := sc
		other.Design = compare
		if err := other.Validate(); err != nil {
			var ie *sim.InputError
			if errors.As(err, &ie) && ie.Field == "design" {
				return out, &sim.InputError{Field: "compare", Msg: "compare " + ie.Msg}
			}
			return out, err
		}
		out = append(out, other)
	}
	return out, nil
}

// webScenario is sim.FromParams with the web's own limits on payments and
// deadline; the error says why the web allows less than the CLI.
func webScenario(get func(name string) string) (sim.Scenario, error) {
	sc, err := sim.FromParams(get)
	if err != nil {
		return sim.Scenario{}, err
	}
	if sc.Payments > MaxWebPayments {
		return sim.Scenario{}, &sim.InputError{Field: "payments", Msg: fmt.Sprintf("payments %d is out of range; allowed: %d to %d (%s)", sc.Payments, sim.MinPayments, MaxWebPayments, webLimitsText)}
	}
	if time.Duration(sc.Deadline) > MaxWebDeadline {
		return sim.Scenario{}, &sim.InputError{Field: "deadline", Msg: fmt.Sprintf("deadline %s is out of range; allowed: 1ms to %s (%s)", sc.Deadline, fmtDuration(MaxWebDeadline), webLimitsText)}
	}
	return sc, nil
}
