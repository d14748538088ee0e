package web

import (
	"errors"
	"fmt"

	"partialtruth/lessons"
	"partialtruth/sim"
)

// viewerExt is what a room adds to a viewer of its session: the messages
// its socket may send beyond the run's, and what it is sent besides the
// run. A plain viewer (the playground's) has none.
type viewerExt interface {
	// attached and detached bracket the viewer's life.
	attached(v *viewer)
	detached(v *viewer)
	// handle applies one client message.
	handle(v *viewer, m clientMsg)
	// pending returns the encoded messages the viewer has not sent yet;
	// only the viewer's writer calls it.
	pending() [][]byte
}

// roomMember is one socket in a room: the trainer's (trainer set) or a
// participant's (who is their id).
type roomMember struct {
	room    *room
	trainer bool
	who     string
	p       *participant // who's, once attached
	v       *viewer
	// What this socket has sent: versions of the room's state. Only the
	// viewer's writer touches them.
	sentPub, sentPeople, sentYou int64
}

func (m *roomMember) attached(v *viewer) {
	m.v = v
	m.room.mu.Lock()
	m.p = m.room.people[m.who]
	m.room.mu.Unlock()
	m.room.fan.add(m)
	if m.who != "" {
		m.room.connect(m.who, 1)
	}
	v.poke()
}

func (m *roomMember) detached(v *viewer) {
	m.room.fan.remove(m)
	if m.who != "" {
		m.room.connect(m.who, -1)
	}
}

// pending is the room's state this socket has not sent: everyone's, the
// trainer's list of people, or the participant's own answers.
func (m *roomMember) pending() [][]byte {
	r := m.room
	needYou := m.p != nil && m.sentYou != m.p.ver.Load()+1
	if !needYou && m.sentPub == r.pubVer.Load() && (!m.trainer || m.sentPeople == r.peopleVer.Load()) {
		return nil // the usual case: the playhead moved, the room did not
	}
	var out [][]byte
	r.mu.Lock()
	if v := r.pubVer.Load(); m.sentPub != v {
		out = append(out, r.pub)
		m.sentPub = v
	}
	if v := r.peopleVer.Load(); m.trainer && m.sentPeople != v {
		out = append(out, r.peopleJSON)
		m.sentPeople = v
	}
	r.mu.Unlock()
	if needYou {
		b, ver := r.youJSON(m.who)
		out = append(out, b)
		m.sentYou = ver + 1
	}
	return out
}

// handle applies a room socket's message: the run's controls and the
// room's own messages, each only from the role it belongs to.
func (m *roomMember) handle(v *viewer, msg clientMsg) {
	r := m.room
	var err error
	switch msg.Type {
	case msgRun, msgPlay, msgPause, msgStep, msgSeek, msgSpeed:
		if err = m.trainerOnly(); err == nil {
			v.control(msg)
			err = r.scenarioChanged(v.ctx, msg.Type == msgRun)
		}
	case msgPollOpen:
		if err = m.trainerOnly(); err == nil {
			err = r.openPoll(v.ctx, msg.Question, msg.Kind, msg.Choices, msg.Metric)
		}
	case msgPollClose:
		if err = m.trainerOnly(); err == nil {
			err = r.setPollState(v.ctx, "closed")
		}
	case msgPollReveal:
		if err = m.trainerOnly(); err == nil {
			err = r.setPollState(v.ctx, "revealed")
		}
	case msgLessonStep:
		if err = m.trainerOnly(); err == nil {
			l, ok := lessons.ByID(v.s.lessons, msg.Lesson)
			if !ok {
				err = &sim.InputError{Field: "lesson", Msg: fmt.Sprintf("lesson %q is not one of this server's; see /lessons", msg.Lesson)}
			} else {
				err = r.showLessonStep(v.ctx, l, msg.Step)
			}
		}
	case msgEnd:
		if err = m.trainerOnly(); err == nil {
			err = r.end(v.ctx)
		}
	case msgAnswer:
		if m.trainer {
			err = &sim.InputError{Field: "type", Msg: "the trainer asks the questions; participants answer them"}
		} else {
			err = r.answer(v.ctx, m.who, msg.Poll, msg.Answer)
		}
	default:
		v.refuse("", fmt.Sprintf("message type %q is unknown; allowed in a room: run, play, pause, step, seek, speed, lesson-step, poll-open, poll-close, poll-reveal, end, answer", msg.Type))
		return
	}
	var ie *sim.InputError
	switch {
	case err == nil:
	case errors.As(err, &ie):
		v.refuse(ie.Field, ie.Msg)
	case errors.Is(err, errTrainerOnly), errors.Is(err, errRoomEnded), errors.Is(err, errPollNotOpen),
		errors.Is(err, errNotJoined), errors.Is(err, errTooManyPolls):
		v.refuse("", err.Error())
	default:
		if v.ctx.Err() == nil {
			r.log.Error("room message", "code", r.code, "type", msg.Type, "err", err)
			v.refuse("", fmt.Sprintf("%s failed; the server log has the details", msg.Type))
		}
	}
}

// trainerOnly refuses a control message from anyone but the trainer, and
// any once the room has ended.
func (m *roomMember) trainerOnly() error {
	if !m.trainer {
		return errTrainerOnly
	}
	if m.room.isEnded() {
		return errRoomEnded
	}
	return nil
}
