package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// hostPolicy is the allow-list for the Host header: the names this server
// answers to. A page from another name (a DNS-rebinding page whose name
// now points here) gets no page, no link and no socket, and absolute links
// are written from the public URL or an allowed Host, never from whatever
// a request claims.
type hostPolicy struct {
	public string   // scheme://host of the public URL, "" for none
	hosts  []string // allowed host[:port] values, lower case
	port   string   // the listen port; with anyIP, any IP address at it is allowed
	anyIP  bool     // the server listens on every address
	all    bool     // no address given (tests, embedding): any well-formed host
}

// newHostPolicy allows the listen address addr (host:port; a loopback or
// unspecified host also allows localhost and the loopback addresses at
// the port, an unspecified one any IP address there) and the host of
// publicURL, if set. With neither, any well-formed host is allowed.
func newHostPolicy(addr, publicURL string) (*hostPolicy, error) {
	p := &hostPolicy{}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("public URL %q is not valid; allowed: http:// or https:// and a host, with no path, such as https://play.example.com", publicURL)
		}
		p.public = u.Scheme + "://" + strings.ToLower(u.Host)
		p.hosts = append(p.hosts, strings.ToLower(u.Host))
	}
	if addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("listen address %q is not host:port: %w", addr, err)
		}
		p.port = port
		ip := net.ParseIP(host)
		switch {
		case host == "" || (ip != nil && ip.IsUnspecified()):
			p.anyIP = true
			p.hosts = append(p.hosts, "localhost:"+port)
		case ip != nil && ip.IsLoopback() || host == "localhost":
			p.hosts = append(p.hosts, "localhost:"+port, "127.0.0.1:"+port, "[::1]:"+port, strings.ToLower(net.JoinHostPort(host, port)))
		default:
			p.hosts = append(p.hosts, strings.ToLower(net.JoinHostPort(host, port)))
		}
	}
	p.all = publicURL == "" && addr == ""
	return p, nil
}

// allowed says whether host (a Host header or an Origin's host) names
// this server.
func (p *hostPolicy) allowed(host string) bool {
	host = strings.ToLower(host)
	if p.all {
		return wellFormedHost(host)
	}
	if slices.Contains(p.hosts, host) {
		return true
	}
	if p.anyIP {
		h, port, err := net.SplitHostPort(host)
		return err == nil && port == p.port && net.ParseIP(h) != nil
	}
	return false
}

// wellFormedHost is a host[:port] made only of the characters a host
// name, an IP address and a port may hold, so it is safe to put in a link.
func wellFormedHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

// describe lists what is allowed, for the refusal.
func (p *hostPolicy) describe() string {
	d := strings.Join(p.hosts, ", ")
	if p.anyIP {
		d += ", or any IP address at port " + p.port
	}
	return d
}

// origin is the scheme and host absolute links are written with: the
// public URL's when set, else the request's own (already allowed).
func (p *hostPolicy) origin(r *http.Request) string {
	if p.public != "" {
		return p.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

// checkHost answers a request whose Host is not one of this server's
// names with 421 Misdirected Request, before any handler sees it.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts.allowed(r.Host) {
			s.fail(w, r, &StatusError{Status: http.StatusMisdirectedRequest,
				Msg: fmt.Sprintf("host %.100q is not a name of this server; allowed: %s (the server's -public-url sets its public name)", r.Host, s.hosts.describe())})
			return
		}
		next.ServeHTTP(w, r)
	})
}
