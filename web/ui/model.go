// Package ui holds the pages' templ components and the plain data they
// render. It knows nothing of HTTP: handlers in package web build the data
// and call the components.
package ui

import "strings"

// DesignOption is one design in a list or a select: its name and its
// one-line summary, both from sim.
type DesignOption struct {
	Name    string
	Summary string
}

// FaultField is one fault's slider: its name, what it does, and its
// probability as text ("0.1").
type FaultField struct {
	Name    string
	Summary string
	Value   string
	// Designs names, space-separated, the designs this fault can touch
	// (sim's Design.Faults), so the form can say when it has no effect.
	Designs string
	// NoEffect, when set, says that none of the chosen designs has
	// anything for this fault to act on.
	NoEffect string
}

// Field is how the form shows one parameter.
type Field struct {
	// Label names the field ("Client timeout").
	Label string
	// Help says in a line what it means and allows (sim's Param.Help).
	Help string
	// Numeric asks for a numeric keyboard: the value is a whole number.
	Numeric bool
}

// SpeedOption is one playback speed in virtual milliseconds per real
// second; 0 means as fast as possible.
type SpeedOption struct {
	Value string
	Label string
}

// PlayForm is what the playground's form shows. Values hold each field as
// text, as the URL gave it, so a bad value is shown as typed next to the
// message that says what is wrong with it.
type PlayForm struct {
	// Values maps a parameter name (design, seed, payments, faults,
	// latency, jitter, deadline, compare, speed) to its text.
	Values map[string]string
	// Designs lists every design, for the design and compare selects.
	Designs []DesignOption
	// Faults has one slider per fault, in canonical order.
	Faults []FaultField
	// Speeds are the playback speeds offered, and DefaultSpeed sim's
	// default among them.
	Speeds       []SpeedOption
	DefaultSpeed string
	// Fields maps a parameter name to its label and help, from sim's
	// parameter table.
	Fields map[string]Field
	// Vocabulary is sim's parameter table as JSON, for the browser's form
	// code: names in URL order, defaults, speeds, the no-effect sentence.
	Vocabulary string
	// More lists the parameters shown under "More settings": those past
	// the core ones, such as deadline or client-timeout.
	More []string
	// ErrField names the field at fault ("form" when none fits); empty
	// when the scenario is valid.
	ErrField string
	// ErrMsg says what is wrong and what is allowed.
	ErrMsg string
}

// Error is the message to show beside field, or "".
func (f PlayForm) Error(field string) string {
	if f.ErrField == field {
		return f.ErrMsg
	}
	return ""
}

// Invalid is "true" when field is the one at fault, for aria-invalid.
func (f PlayForm) Invalid(field string) string {
	if f.ErrField == field {
		return "true"
	}
	return "false"
}

// Home is what the front page shows.
type Home struct {
	// ExampleURL opens the handbook's example: dual write against the
	// outbox with an idempotent consumer, bus publishes failing 10% of the time.
	ExampleURL string
	// Story is the first payment dual write loses in the example, whose
	// story the example opens on (0 if it loses none).
	Story int
	// Designs lists every design with its summary, in teaching order.
	Designs []DesignOption
}

// Unknown is the value of a design select (design, compare) when it names
// no design, so the select can show what the URL asked for beside the
// error; "" when the value is empty or a design.
func (f PlayForm) Unknown(name string) string {
	v := f.Values[name]
	if v == "" {
		return ""
	}
	for _, d := range f.Designs {
		if d.Name == v {
			return ""
		}
	}
	return v
}

// MoreOpen says whether "More settings" starts open: when one of its
// fields is the one at fault.
func (f PlayForm) MoreOpen() bool {
	for _, name := range f.More {
		if name == f.ErrField {
			return true
		}
	}
	return false
}

// Title turns a parameter name into a label: "client-timeout" → "Client timeout".
func Title(name string) string {
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + strings.ReplaceAll(name[1:], "-", " ")
}

// Title is the page's title: the designs it shows, so a tab or a shared
// link says what run it holds.
func (f PlayForm) Title() string {
	t := f.Values["design"]
	if c := f.Values["compare"]; c != "" {
		t += " vs " + c
	}
	if t == "" {
		return "Playground · Partial Truth"
	}
	return t + " · Partial Truth playground"
}
