package web

import (
	"encoding/json"

	"partialtruth/sim"
)

// Message types on the run socket; see the protocol comment in ws.go.
const (
	msgRun    = "run"
	msgPlay   = "play"
	msgPause  = "pause"
	msgStep   = "step"
	msgSeek   = "seek"
	msgSpeed  = "speed"
	msgMeta   = "meta"
	msgEvents = "events"
	msgCursor = "cursor"
	msgReport = "report"
	msgDone   = "done"
	msgError  = "error"
)

// clientMsg is any message a viewer sends; Type says which fields matter.
// Speed and AtUs are pointers so that "absent" and "0" differ. Params are
// decoded as any so that a number where a string belongs is reported
// under the parameter's own name.
type clientMsg struct {
	Type     string         `json:"type"`
	Params   map[string]any `json:"params"`
	Compare  string         `json:"compare"`
	Speed    *float64       `json:"speed"`
	Autoplay bool           `json:"autoplay"`
	Delta    int            `json:"delta"`
	AtUs     *int64         `json:"at_us"`
	// Side and Event, on a seek, put the playhead on that event instead
	// of at a time.
	Side  *int `json:"side"`
	Event *int `json:"event"`
	// A room's messages (room_http.go): a poll to open, an answer.
	Question string   `json:"question"`
	Kind     string   `json:"kind"`
	Choices  []string `json:"choices"`
	Metric   string   `json:"metric"`
	Poll     int      `json:"poll"`
	Answer   string   `json:"answer"`
	Lesson   string   `json:"lesson"`
	Step     int      `json:"step"`
}

// metaMsg announces a new run: everything the page needs to lay out its
// lanes, counters and source before the first event arrives.
type metaMsg struct {
	Type string    `json:"type"`
	Runs []runMeta `json:"runs"`
}

type runMeta struct {
	Side       int              `json:"side"`
	Design     string           `json:"design"`
	Nodes      []string         `json:"nodes"`
	Metrics    []string         `json:"metrics"`
	Invariants []string         `json:"invariants"`
	Source     []sim.SourceFunc `json:"source"`
	Events     int              `json:"events"`
	EndUs      int64            `json:"end_us"`
	Scenario   sim.Scenario     `json:"scenario"`
	Query      string           `json:"query"`
}

// cursorMsg is the playhead. Speed 0 means as fast as possible.
type cursorMsg struct {
	Type    string  `json:"type"`
	AtUs    int64   `json:"at_us"`
	Shown   []int   `json:"shown"`
	Playing bool    `json:"playing"`
	Speed   float64 `json:"speed"`
}

type reportMsg struct {
	Type   string          `json:"type"`
	Side   int             `json:"side"`
	Report json.RawMessage `json:"report"`
}

type doneMsg struct {
	Type string `json:"type"`
}

// errorMsg is a refused message. Field names the input at fault ("" when
// the message as a whole was bad), so the page can show it beside the field.
type errorMsg struct {
	Type    string `json:"type"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// wireEvent is a sim.Event as the events message carries it: its own JSON
// (what `run -events` writes) plus "moves", the report keys it adds one
// to, which sim leaves out of its own JSON. A recording encodes each event
// this way once, for every viewer.
type wireEvent struct {
	*sim.Event
	Moves []string `json:"moves,omitempty"`
}
