package web

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// Connection caps. Every connection costs a file descriptor; when the
// process runs out, even GET / fails with "too many open files". So the
// server caps connections in total, below the descriptor limit, and per
// client address, so one client cannot take them all, and answers a
// connection beyond a cap at once with a 503 that says which cap.
const (
	// DefaultMaxConns is the cap on open connections in total, unless the
	// descriptor limit calls for fewer (ConnLimit).
	DefaultMaxConns = 1024
	// DefaultMaxClientConns is the cap on one client address's open
	// connections: a few tabs of pages and sockets.
	DefaultMaxClientConns = 32
	// reservedFDs are descriptors kept for what is not a connection: the
	// database, its journal, the listener, logs.
	reservedFDs = 64
)

// ConnLimit is the total cap to use for a process allowed fdLimit open
// files: DefaultMaxConns, or fewer so that reservedFDs stay free.
func ConnLimit(fdLimit uint64) int {
	if fdLimit == 0 || fdLimit >= DefaultMaxConns+reservedFDs {
		return DefaultMaxConns
	}
	if fdLimit <= 2*reservedFDs {
		return int(fdLimit / 2)
	}
	return int(fdLimit) - reservedFDs
}

// LimitListener wraps ln so that at most total connections are open at
// once, and at most perClient from one client address. A connection
// beyond a cap is answered with a 503 naming the cap and closed; Accept
// goes on with the next.
func LimitListener(ln net.Listener, total, perClient int) net.Listener {
	return &limitListener{Listener: ln, total: total, perClient: perClient, byAddr: map[string]int{}}
}

type limitListener struct {
	net.Listener
	total, perClient int

	mu     sync.Mutex
	open   int
	byAddr map[string]int
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := hostOf(c.RemoteAddr())
		l.mu.Lock()
		var refusal string
		switch {
		case l.open >= l.total:
			refusal = fmt.Sprintf("the server has %d connections open, the most it allows", l.open)
		case l.byAddr[addr] >= l.perClient:
			refusal = fmt.Sprintf("your address has %d connections open, the most one address may have", l.byAddr[addr])
		default:
			l.open++
			l.byAddr[addr]++
		}
		l.mu.Unlock()
		if refusal != "" {
			go refuseConn(c, refusal)
			continue
		}
		return &limitedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// refuseConn answers a connection beyond a cap with a plain 503 and
// closes it, within a second whatever the client does.
func refuseConn(c net.Conn, why string) {
	body := fmt.Sprintf("the server is busy: %s; try again in %d s\n", why, int(retryAfter.Seconds()))
	c.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		int(retryAfter.Seconds()), len(body), body)
	c.Close()
}

func (l *limitListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	l.byAddr[addr]--
	if l.byAddr[addr] == 0 {
		delete(l.byAddr, addr)
	}
}

// hostOf is a remote address without its port.
func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn gives its place back once closed, however often Close is
// called (net/http and the WebSocket code may both close it).
type limitedConn struct {
	net.Conn
	l    *limitListener
	addr string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.addr) })
	return err
}
