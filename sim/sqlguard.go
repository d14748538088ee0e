package sim

import (
	"strings"
	"unicode/utf8"
)

// allowedSQL is what the messages say a query may be.
const allowedSQL = "one SELECT, WITH or EXPLAIN statement"

// readOnlyStatement checks that q is one SELECT, WITH or EXPLAIN
// (QUERY PLAN) SELECT/WITH statement and returns it without its trailing
// semicolon, and whether it is an EXPLAIN. It reads q the way SQLite's
// tokenizer does as far as statements are concerned: strings, quoted
// identifiers and comments may hold semicolons and parentheses. The
// parentheses must balance, so the statement cannot close the subquery
// Query wraps it in. SQLite's authorizer is the guard behind this one.
func readOnlyStatement(q string) (stmt string, explain bool, err error) {
	switch {
	case len(q) > MaxQueryBytes:
		return "", false, inputErr("sql", "sql is %d bytes long; allowed: at most %d bytes, %s", len(q), MaxQueryBytes, allowedSQL)
	case !utf8.ValidString(q):
		return "", false, inputErr("sql", "sql is not valid UTF-8; allowed: %s", allowedSQL)
	case strings.IndexByte(q, 0) >= 0:
		return "", false, inputErr("sql", "sql holds a NUL byte; allowed: %s", allowedSQL)
	}
	var (
		words []string // the first few tokens, words upper-cased
		depth int
		end   = -1 // index of the semicolon that ends the statement
	)
	token := func(t string) {
		if len(words) < 4 {
			words = append(words, t)
		}
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
				i += j + 1
			} else {
				i = len(q)
			}
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return "", false, inputErr("sql", "sql has a /* comment that is never closed; allowed: %s", allowedSQL)
			}
			i += 2 + j + 2
			continue
		}
		// Anything but space and comments after the semicolon is a second
		// statement.
		if end >= 0 {
			return "", false, inputErr("sql", "sql holds more than one statement; allowed: %s", allowedSQL)
		}
		switch {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			closeQuote := c
			if c == '[' {
				closeQuote = ']'
			}
			j := i + 1
			for {
				k := strings.IndexByte(q[j:], closeQuote)
				if k < 0 {
					return "", false, inputErr("sql", "sql has a %c that is never closed; allowed: %s", c, allowedSQL)
				}
				j += k + 1
				// A doubled quote is one quote inside the string.
				if c != '[' && j < len(q) && q[j] == closeQuote {
					j++
					continue
				}
				break
			}
			token(q[i:j])
			i = j
		case c == '(':
			depth++
			token("(")
			i++
		case c == ')':
			depth--
			if depth < 0 {
				return "", false, inputErr("sql", "sql closes a parenthesis it never opened; allowed: %s", allowedSQL)
			}
			token(")")
			i++
		case c == ';':
			if depth > 0 {
				return "", false, inputErr("sql", "sql ends a statement inside parentheses; allowed: %s", allowedSQL)
			}
			end = i
			i++
		case isWordByte(c) && !(c >= '0' && c <= '9'):
			j := i + 1
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			token(strings.ToUpper(q[i:j]))
			i = j
		default:
			token(string(c))
			i++
		}
	}
	if depth > 0 {
		return "", false, inputErr("sql", "sql opens a parenthesis it never closes; allowed: %s", allowedSQL)
	}
	if len(words) == 0 {
		return "", false, inputErr("sql", "sql is empty; allowed: %s", allowedSQL)
	}
	read := func(w string) bool { return w == "SELECT" || w == "WITH" }
	first := words[0]
	switch {
	case read(first):
	case first == "EXPLAIN":
		explain = true
		rest := words[1:]
		if len(rest) >= 2 && rest[0] == "QUERY" && rest[1] == "PLAN" {
			rest = rest[2:]
		}
		if len(rest) == 0 || !read(rest[0]) {
			return "", false, inputErr("sql", "sql explains something other than a SELECT or WITH; allowed: %s", allowedSQL)
		}
	default:
		if r := []rune(first); len(r) > 40 {
			first = string(r[:40]) + "…"
		}
		return "", false, inputErr("sql", "sql starts with %s; allowed: %s", first, allowedSQL)
	}
	if end >= 0 {
		q = q[:end]
	}
	return q, explain, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
