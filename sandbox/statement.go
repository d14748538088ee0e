package sandbox

import (
	"strings"
	"unicode/utf8"
)

// allowedSQL is what the messages say a query may be.
const allowedSQL = "one SELECT, WITH or EXPLAIN statement"

// statement checks, before SQLite sees q, what SQLite cannot check or would
// word less clearly, and returns the one statement to run, without its
// trailing semicolon and comments, and whether it is an EXPLAIN.
//
// SQLite is the guard that decides what a statement may do: the
// authorizer refuses to compile anything but a read, PRAGMA query_only
// stands behind it, and the grammar refuses unbalanced parentheses,
// unclosed strings and anything that is not SQL. What is left here:
//
//   - the size, valid UTF-8 and no NUL byte: a NUL would end the text
//     SQLite reads early, so SQLite would judge less than q;
//   - the first word: "starts with DELETE" tells the learner more than
//     "not authorized", and an EXPLAIN is run as it is, not inside the
//     subquery that bounds a query's rows and time;
//   - one statement: the driver runs every statement of a script and
//     returns the last one's rows, which an EXPLAIN (not wrapped) would
//     then read one at a time, beyond the time limit.
func statement(q string) (stmt string, explain bool, err error) {
	switch {
	case len(q) > MaxSQLBytes:
		return "", false, inputErr("sql", "sql is %d bytes long; allowed: at most %d bytes, %s", len(q), MaxSQLBytes, allowedSQL)
	case !utf8.ValidString(q):
		return "", false, inputErr("sql", "sql is not valid UTF-8; allowed: %s", allowedSQL)
	case strings.IndexByte(q, 0) >= 0:
		return "", false, inputErr("sql", "sql holds a NUL byte; allowed: %s", allowedSQL)
	}
	end := statementEnd(q)
	if end < len(q) && skipSpace(q, end+1) < len(q) {
		return "", false, inputErr("sql", "sql holds more than one statement; allowed: %s", allowedSQL)
	}
	stmt = q[:end]
	switch first := firstWord(stmt); strings.ToUpper(first) {
	case "SELECT", "WITH":
	case "EXPLAIN":
		explain = true
	case "":
		return "", false, inputErr("sql", "sql is empty; allowed: %s", allowedSQL)
	default:
		if r := []rune(first); len(r) > 40 {
			first = string(r[:40]) + "…"
		}
		return "", false, inputErr("sql", "sql starts with %s; allowed: %s", strings.ToUpper(first), allowedSQL)
	}
	return stmt, explain, nil
}

// statementEnd is the index of the semicolon that ends q's first
// statement, or len(q). A semicolon in a string, a quoted identifier or a
// comment ends nothing; one that is never closed runs to the end, as in
// SQLite's tokenizer, and SQLite then refuses it.
func statementEnd(q string) int {
	for i := 0; i < len(q); {
		switch c := q[i]; c {
		case ';':
			return i
		case '\'', '"', '`', '[':
			i = quoteEnd(q, i)
		case '-', '/':
			if j := skipSpace(q, i); j > i {
				i = j
			} else {
				i++
			}
		default:
			i++
		}
	}
	return len(q)
}

// quoteEnd is the index just after the string or quoted identifier that
// opens at q[i]. A doubled quote is one quote inside it; brackets cannot
// be escaped.
func quoteEnd(q string, i int) int {
	closing := q[i]
	if closing == '[' {
		closing = ']'
	}
	for j := i + 1; ; {
		k := strings.IndexByte(q[j:], closing)
		if k < 0 {
			return len(q)
		}
		j += k + 1
		if closing == ']' || j == len(q) || q[j] != closing {
			return j
		}
		j++
	}
}

// skipSpace is the index of the first byte at or after i that is neither
// white space (as SQLite's tokenizer has it) nor in a comment.
func skipSpace(q string, i int) int {
	for i < len(q) {
		switch {
		case strings.IndexByte(" \t\n\r\f", q[i]) >= 0:
			i++
		case strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return len(q)
			}
			i += j + 1
		case strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return len(q)
			}
			i += 2 + j + 2
		default:
			return i
		}
	}
	return i
}

// firstWord is the first token of q after space and comments if it is a
// word, or its first character if not, or "" when q has no token.
func firstWord(q string) string {
	i := skipSpace(q, 0)
	j := i
	for j < len(q) && isWordByte(q[j]) {
		j++
	}
	if j == i && i < len(q) {
		_, n := utf8.DecodeRuneInString(q[i:])
		j = i + n
	}
	return q[i:j]
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
