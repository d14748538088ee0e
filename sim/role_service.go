package sim

import (
	"errors"
	"strconv"
)

// Service is what a design's request handler runs against inside the
// payment service: its database and its bus client.
type Service struct {
	DB  DB
	Bus Bus
	// Replica is a read-only copy of DB that trails it by the scenario's
	// replica-lag (the stale-read designs).
	Replica DB
	// Region names the region this service runs in (the partition designs).
	Region string
	p      *proc
	reply  string
	// forwarded marks a request another region forwarded to this one.
	forwarded bool
	// state is what the service's family keeps for it (the partition
	// family's region), for the calls that family adds.
	state any
}

// Forwarded says whether the request came from the other region rather
// than from the client (the partition designs): a region that cannot
// decide a forwarded request answers, it does not forward it back.
func (s *Service) Forwarded() bool { return s.forwarded }

// Reply sets the answer the client gets when the handler returns nil; the
// default is "ok".
func (s *Service) Reply(answer string) { s.reply = answer }

// Backoff waits before retry number attempt (1, 2, …): an exponential delay
// from base with keyed jitter of ±50%, so retries of many payments do not
// line up.
func (s *Service) Backoff(attempt int, base Duration) { s.p.backoff(attempt, base) }

func (p *proc) backoff(attempt int, base Duration) {
	p.step()
	d := int64(base) / 1000 << (attempt - 1)
	u := uniform(p.w.sc.Seed, tagBackoff, uint64(attempt), uint64(p.payment), 0)
	d = d/2 + int64(u*float64(d))
	p.w.emit(Event{Node: p.node.name, Kind: KindRetry, Payment: p.payment,
		Note: "retry " + strconv.Itoa(attempt) + " after " + msToString(d)})
	p.sleep(d)
}

// ErrDeclined is what a handler returns (wrapped) when a business rule
// refuses a payment: the customer's limit, an account without the money.
// It is an answer, not a failure, and retrying it changes nothing.
var ErrDeclined = errors.New("declined")

// ErrUnavailable is what a handler returns when it refuses a request for
// lack of consistency: it cannot reach the node that must decide.
var ErrUnavailable = errors.New("rejected: the primary cannot be reached")

// serveRequest runs handle for pay in a new process on node n, against the
// Service that open makes for it, and answers to the node the request came
// from. A refusal by business rule (ErrDeclined) or for lack of
// consistency (ErrUnavailable) is shown as such, and counted unless
// forwarded (then the node that took the request counts it) or unless the
// payment is counted already: a copy of a request that the network
// delivered twice, refused because its first copy was accepted (or
// refused), is the same payment, not another refusal.
func (w *world) serveRequest(n, from *node, pay Payment, handle func(*Service, Payment) error, open func(p *proc) *Service, forwarded bool, answer func(result string, err error)) {
	w.spawn(n, pay.ID, func(p *proc) {
		s := open(p)
		s.forwarded = forwarded
		result := "ok"
		err := handle(s, pay)
		if err != nil {
			result = "error: " + err.Error()
			switch {
			case errors.Is(err, ErrDeclined):
				result = err.Error()
				var moves []string
				if !forwarded && !w.alreadyAnswered(pay.ID) {
					moves = movesDeclined
				}
				w.emit(Event{Node: n.name, Kind: KindDecline, Payment: pay.ID, Note: result, Moves: moves})
			case errors.Is(err, ErrUnavailable):
				result = err.Error()
				var moves []string
				if !forwarded && !w.alreadyAnswered(pay.ID) {
					moves = movesRejected
				}
				w.emit(Event{Node: n.name, Kind: KindReject, Payment: pay.ID, Note: result, Moves: moves})
			default:
				w.emit(Event{Node: n.name, Kind: KindError, Payment: pay.ID, Note: "handler returned " + result})
			}
		} else if s.reply != "" {
			result = s.reply
		}
		p.stepAt(momentBeforeReply)
		w.send(n, from, chResponse, pay.ID, KindSend, result, func() { answer(result, err) })
	})
}

// serviceHost is a node that serves requests with the design's handler
// against its database, and a replica where it has one: the payment
// service of most families.
type serviceHost struct {
	// serve serves one request; open makes the Service its handler runs
	// against. Both are made once: a run serves thousands of requests.
	serve func(pay Payment, answer func(result string, err error))
	open  func(p *proc) *Service
}

// newServiceHost makes node n serve the requests of node client with
// handle, against db and replica (nil for none).
func (w *world) newServiceHost(n, client *node, handle func(*Service, Payment) error, db, replica *database) *serviceHost {
	h := &serviceHost{}
	h.open = func(p *proc) *Service {
		s := &Service{DB: DB{db, p}, Bus: Bus{p}, p: p}
		if replica != nil {
			s.Replica = DB{replica, p}
		}
		return s
	}
	h.serve = func(pay Payment, answer func(string, error)) {
		w.serveRequest(n, client, pay, handle, h.open, false, answer)
	}
	return h
}
