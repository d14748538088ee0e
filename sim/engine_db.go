package sim

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Each node that owns state owns a real in-memory SQLite database. The outbox
// is a real BEGIN; INSERT; INSERT; COMMIT, a consumer's dedup is a real
// unique key, and a crash really rolls back.

// stmtCostUs is the virtual time one SQL statement takes.
const stmtCostUs = 100

// ErrDuplicate is returned by Exec when a statement breaks a unique key:
// the consumer has seen this event id before.
var ErrDuplicate = errors.New("unique constraint: already recorded")

// ErrCommitFailed is returned by Commit under db.fail; the transaction has
// been rolled back.
var ErrCommitFailed = errors.New("commit failed; transaction rolled back")

// database is one node's SQLite database, used by one simulated process at a
// time: a process that holds an open transaction holds the database until it
// commits or rolls back, as SQLite's single writer does.
type database struct {
	w       *world
	name    string // node name, e.g. "service.db"
	sqldb   *sql.DB
	conn    *sql.Conn
	stmts   map[string]*stmtInfo
	holder  *proc
	waiters []*proc
	// watch maps a table to what its family follows of the rows inserted
	// into it.
	watch map[string]*watch
	// scope keys this database's db.fail decisions.
	scope uint32
	// onQuery, if set, sees every read a process makes here, with the id of
	// its event: the stale-read checker notes what each decision saw. An
	// UPDATE reads too (its WHERE decides which rows it changes), so it
	// sees those as well. An
	// UPDATE reads too (its WHERE decides which rows it changes), so it
	// sees those as well.
	onQuery func(p *proc, event int)
	// committed, when the database runs at read committed (see
	// readCommitted), is a copy of it as its last commit left it: what a
	// read that holds no write lock sees.
	committed *database
}

// watch is what a family follows of the rows inserted into one table, as
// the transactions that inserted them commit. Each insert is about the
// payment its process works on.
type watch struct {
	// moves, if set, returns the report keys that committing an insert
	// about payment moves (see Event.Moves); it runs before the commit's
	// event.
	moves func(payment int) []string
	// committed, if set, runs after the commit's event, once per insert,
	// with that event's id.
	committed func(d *database, payment, commitEvent int)
}

type stmtInfo struct {
	stmt  *sql.Stmt
	watch *watch // of the table it inserts into, if any
}

// openDB opens a node's database and adds it to the run's. scope keys its
// db.fail decisions, so each database meets its own faults; watch says what
// the family follows of the inserts into which table.
func (w *world) openDB(name string, scope uint32, schema string, watch map[string]*watch) (*database, error) {
	d, err := openDatabase(w, name, schema, watch)
	if err != nil {
		return nil, err
	}
	d.scope = scope
	w.dbs = append(w.dbs, d)
	return d, nil
}

func openDatabase(w *world, name string, schema string, watch map[string]*watch) (*database, error) {
	sqldb, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	sqldb.SetMaxOpenConns(1)
	conn, err := sqldb.Conn(context.Background())
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	if _, err := conn.ExecContext(context.Background(), schema); err != nil {
		conn.Close()
		sqldb.Close()
		return nil, fmt.Errorf("%s schema: %w", name, err)
	}
	return &database{w: w, name: name, sqldb: sqldb, conn: conn, stmts: map[string]*stmtInfo{}, watch: watch}, nil
}

func (d *database) close() {
	if d.committed != nil {
		d.committed.close()
	}
	for _, s := range d.stmts {
		s.stmt.Close()
	}
	d.conn.Close()
	d.sqldb.Close()
}

func (d *database) prepare(q string) *stmtInfo {
	if s, ok := d.stmts[q]; ok {
		return s
	}
	stmt, err := d.conn.PrepareContext(context.Background(), q)
	if err != nil {
		// Design code is ours; a statement that does not prepare is a bug.
		panic(fmt.Sprintf("sim: %s: prepare %q: %v", d.name, q, err))
	}
	s := &stmtInfo{stmt: stmt}
	if rest, ok := strings.CutPrefix(q, "INSERT INTO "); ok {
		table, _, _ := strings.Cut(rest, " ")
		s.watch = d.watch[table]
	}
	d.stmts[q] = s
	return s
}

// exec runs q outside the simulation's accounting (setup and checks).
func (d *database) exec(q string, args ...any) error {
	_, err := d.prepare(q).stmt.Exec(args...)
	if err == nil && d.committed != nil {
		err = d.committed.exec(q, args...)
	}
	return err
}

// Isolation levels a database can run its transactions at (see
// Scenario.Isolation).
const (
	// IsolationSerializable runs each transaction alone: it holds the
	// whole database from BEGIN to COMMIT, so no other transaction can
	// commit between its check and its write. It is SQLite's behaviour,
	// and PostgreSQL's SERIALIZABLE as far as the outcome goes (PostgreSQL
	// lets both run and aborts one with 40001, which must be retried).
	IsolationSerializable = "serializable"
	// IsolationReadCommitted is PostgreSQL's and Oracle's default (and
	// close to MySQL's REPEATABLE READ for this purpose): each read sees
	// what was committed when it ran, without waiting for anyone; a
	// write waits for the lock another transaction's write holds, until
	// that one commits, and then sees its commit. Two transactions can
	// both read the old total and both write.
	IsolationReadCommitted = "read-committed"
)

// readCommitted makes d run its transactions at read committed, from the
// schema it was opened with. The simulator keeps one SQLite connection
// per database, whose open transaction its other readers would see; so a
// read that holds no write lock reads a second copy that every commit
// brings up to date by replaying its writes, in commit order, while the
// lock is still held.
func (d *database) readCommitted(schema string) error {
	c, err := openDatabase(d.w, d.name, schema, nil)
	if err != nil {
		return err
	}
	d.committed = c
	return nil
}

// acquire waits until p may use the database.
func (d *database) acquire(p *proc) {
	for d.holder != nil && d.holder != p {
		d.waiters = append(d.waiters, p)
		p.waitFor()
		p.park()
	}
	d.holder = p
}

// release hands the database to the next live waiter.
func (d *database) release() {
	d.holder = nil
	for len(d.waiters) > 0 {
		p := d.waiters[0]
		d.waiters = d.waiters[1:]
		if !p.done && !p.killed {
			d.holder = p // handed over directly: no newcomer can jump the queue
			d.w.wake(p, p.token, nil, false)
			return
		}
	}
}

// DB is a process's handle on its node's database. Every call is a step.
type DB struct {
	d *database
	p *proc
}

// Tx is an open transaction. It holds its database until Commit or
// Rollback; at read committed, from its first write until then.
type Tx struct {
	d       *database
	p       *proc
	done    bool
	pending []watched
	buf     [2]watched // pending's first rows, in place
	// readCommitted is set for a transaction on a database at read
	// committed; writing once it has taken the write lock, and writes
	// lists what it wrote, for the committed copy.
	readCommitted, writing bool
	writes                 []write
}

// write is one statement a read-committed transaction wrote.
type write struct {
	q    string
	args []any
}

type watched struct {
	w       *watch
	payment int
}

// Begin starts a transaction, waiting while another process holds one.
func (db DB) Begin() *Tx {
	p := db.p
	p.step()
	tx := p.newTx()
	if db.d.committed != nil {
		// Read committed: the transaction takes the write lock at its
		// first write, not here.
		*tx = Tx{d: db.d, p: p, readCommitted: true}
		tx.pending = tx.buf[:0]
		p.tx = tx
		p.w.emit(Event{Node: db.d.name, Kind: KindBegin, Payment: p.payment, Peer: p.node.name, SQL: "BEGIN", Note: "transaction opened (read committed)"})
		p.sleep(stmtCostUs)
		return tx
	}
	db.d.acquire(p)
	db.d.mustExec("BEGIN")
	*tx = Tx{d: db.d, p: p}
	tx.pending = tx.buf[:0]
	p.tx = tx
	p.w.emit(Event{Node: db.d.name, Kind: KindBegin, Payment: p.payment, Peer: p.node.name, SQL: "BEGIN", Note: "transaction opened"})
	p.sleep(stmtCostUs)
	return tx
}

func (d *database) mustExec(q string) {
	if _, err := d.prepare(q).stmt.Exec(); err != nil {
		panic(fmt.Sprintf("sim: %s: %s: %v", d.name, q, err))
	}
}

// Exec runs one statement in the transaction. It returns ErrDuplicate when
// the statement breaks a unique key, and the transaction stays open.
func (tx *Tx) Exec(q string, args ...any) error {
	_, err := tx.exec(q, args)
	return err
}

// ExecRows is Exec that also says how many rows the statement changed: 0
// when an UPDATE's WHERE matched no row.
func (tx *Tx) ExecRows(q string, args ...any) (int64, error) {
	return tx.exec(q, args)
}

func (tx *Tx) exec(q string, args []any) (int64, error) {
	p := tx.p
	p.step()
	if tx.readCommitted && !tx.writing {
		// The first write waits for the write lock, as a row lock or a
		// unique index waits for the transaction that holds it; then it
		// sees everything committed before it.
		tx.d.acquire(p)
		tx.d.mustExec("BEGIN")
		tx.writing = true
	}
	s := tx.d.prepare(q)
	res, err := s.stmt.Exec(args...)
	var n int64
	if err == nil {
		n, _ = res.RowsAffected()
		if tx.readCommitted {
			tx.writes = append(tx.writes, write{q, args})
		}
	}
	ev := Event{Node: tx.d.name, Kind: KindExec, Payment: p.payment, Peer: p.node.name, SQL: q, Args: args}
	if err != nil {
		if !isUniqueViolation(err) {
			panic(fmt.Sprintf("sim: %s: %s: %v", tx.d.name, q, err))
		}
		ev.Kind = KindError
		ev.Note = "unique key already holds this value"
		p.w.emit(ev)
		p.sleep(stmtCostUs)
		return 0, ErrDuplicate
	}
	ev.Note = "1 row written"
	if n != 1 {
		ev.Note = strconv.FormatInt(n, 10) + " rows written"
	}
	if s.watch != nil {
		tx.pending = append(tx.pending, watched{s.watch, p.payment})
	}
	id := p.w.emit(ev)
	if tx.d.onQuery != nil && strings.HasPrefix(q, "UPDATE ") {
		tx.d.onQuery(p, id)
	}
	p.sleep(stmtCostUs)
	return n, nil
}

// Commit makes the transaction durable, or, under db.fail, rolls it back
// and returns ErrCommitFailed.
func (tx *Tx) Commit() error {
	p := tx.p
	p.stepAt(momentBeforeCommit)
	w := p.w
	if w.roll(DBFail, dbScope(tx.d), p.payment) {
		tx.rollbackSQL()
		tx.finish()
		w.emit(Event{Node: tx.d.name, Kind: KindCommitErr, Payment: p.payment, Peer: p.node.name, SQL: "COMMIT", Fault: DBFail.String(),
			Note: "commit failed: transaction rolled back"})
		p.sleep(stmtCostUs)
		return ErrCommitFailed
	}
	if !tx.readCommitted || tx.writing {
		tx.d.mustExec("COMMIT")
	}
	for _, wr := range tx.writes {
		// The committed copy catches up while the write lock is held, so
		// it sees the commits in the order they happened.
		if _, err := tx.d.committed.prepare(wr.q).stmt.Exec(wr.args...); err != nil {
			panic(fmt.Sprintf("sim: %s: committed copy: %s: %v", tx.d.name, wr.q, err))
		}
	}
	pending := tx.pending
	tx.finish()
	p.committed = true
	id := w.emit(Event{Node: tx.d.name, Kind: KindCommit, Payment: p.payment, Peer: p.node.name, SQL: "COMMIT", Note: "transaction committed",
		Moves: commitMoves(pending)})
	for _, wt := range pending {
		if wt.w.committed != nil {
			wt.w.committed(tx.d, wt.payment, id)
		}
	}
	p.sleep(stmtCostUs)
	return nil
}

// commitMoves is what committing these watched inserts moves, in order.
func commitMoves(pending []watched) []string {
	var moves []string
	for _, wt := range pending {
		if wt.w.moves == nil {
			continue
		}
		m := wt.w.moves(wt.payment)
		switch {
		case len(m) == 0:
		case moves == nil:
			moves = m // shared, never appended to in place
		default:
			moves = append(slices.Clip(moves), m...)
		}
	}
	return moves
}

// Rollback abandons the transaction.
func (tx *Tx) Rollback() {
	p := tx.p
	p.step()
	if tx.done {
		return
	}
	tx.abort("transaction rolled back")
	p.sleep(stmtCostUs)
}

// abort rolls back at once; note "" rolls back without an event (the run
// has ended).
func (tx *Tx) abort(note string) {
	if tx.done {
		return
	}
	tx.rollbackSQL()
	tx.finish()
	if note != "" {
		tx.p.w.emit(Event{Node: tx.d.name, Kind: KindRollback, Payment: tx.p.payment, Peer: tx.p.node.name, SQL: "ROLLBACK", Note: note})
	}
}

// rollbackSQL rolls back what the transaction wrote, if it wrote.
func (tx *Tx) rollbackSQL() {
	if !tx.readCommitted || tx.writing {
		tx.d.mustExec("ROLLBACK")
	}
}

func (tx *Tx) finish() {
	tx.done = true
	tx.pending = nil
	tx.writes = nil
	if tx.p.tx == tx {
		tx.p.tx = nil
	}
	if !tx.readCommitted || tx.writing {
		tx.d.release()
	}
}

// Exec runs one statement in a transaction of its own, as a database
// does with autocommit: one step, so a crash falls before it or after it,
// never inside. It returns ErrCommitFailed under db.fail (nothing was
// written) and ErrDuplicate when the statement breaks a unique key. It
// waits while another process holds a transaction; inside one of its
// own, a process uses Tx.Exec.
func (db DB) Exec(q string, args ...any) error {
	p := db.p
	// A statement on its own is its own commit: a crash may strike before
	// it, and its next step is right after a commit.
	p.stepAt(momentBeforeCommit)
	if p.tx != nil {
		panic("sim: DB.Exec inside a transaction; use Tx.Exec")
	}
	d, w := db.d, p.w
	d.acquire(p)
	ev := Event{Node: d.name, Kind: KindExec, Payment: p.payment, Peer: p.node.name, SQL: q, Args: args}
	s := d.prepare(q)
	var err error
	switch {
	case w.roll(DBFail, dbScope(d), p.payment):
		ev.Kind, ev.Fault, ev.Note = KindCommitErr, DBFail.String(), "statement failed: nothing written"
		err = ErrCommitFailed
	default:
		res, xerr := s.stmt.Exec(args...)
		if xerr != nil {
			if !isUniqueViolation(xerr) {
				panic(fmt.Sprintf("sim: %s: %s: %v", d.name, q, xerr))
			}
			ev.Kind, ev.Note = KindError, "unique key already holds this value"
			err = ErrDuplicate
			break
		}
		if w.sink != nil {
			n, _ := res.RowsAffected()
			ev.Note = strconv.FormatInt(n, 10) + " rows written and committed"
		}
		if s.watch != nil && s.watch.moves != nil {
			ev.Moves = s.watch.moves(p.payment)
		}
		if d.committed != nil {
			if _, err := d.committed.prepare(q).stmt.Exec(args...); err != nil {
				panic(fmt.Sprintf("sim: %s: committed copy: %s: %v", d.name, q, err))
			}
		}
		p.committed = true
	}
	d.release()
	id := w.emit(ev)
	if err == nil && s.watch != nil && s.watch.committed != nil {
		s.watch.committed(d, p.payment, id)
	}
	p.sleep(stmtCostUs)
	return err
}

// Query runs a read and returns its rows. It waits while another process
// holds a transaction, so it never sees uncommitted rows.
func (db DB) Query(q string, args ...any) *Rows {
	p := db.p
	p.step()
	// At read committed a read that holds no write lock waits for no one
	// and sees the last commit; one that holds it sees its own writes too.
	src := db.d
	holds := p.tx != nil && p.tx.d == db.d && (!p.tx.readCommitted || p.tx.writing)
	if db.d.committed != nil && !holds {
		src = db.d.committed
	} else {
		db.d.acquire(p)
	}
	rows, err := src.prepare(q).stmt.Query(args...)
	if err != nil {
		panic(fmt.Sprintf("sim: %s: %s: %v", db.d.name, q, err))
	}
	cols, _ := rows.Columns()
	out := &Rows{cols: len(cols)}
	ptrs := make([]any, len(cols))
	for rows.Next() {
		// Every row's values go in one slice; ptrs point at the new row's.
		out.vals = append(out.vals, make([]any, len(cols))...)
		row := out.vals[len(out.vals)-len(cols):]
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			panic(fmt.Sprintf("sim: %s: %s: %v", db.d.name, q, err))
		}
	}
	rows.Close()
	if src == db.d && !holds {
		db.d.release()
	}
	var note string
	if p.w.sink != nil {
		note = strconv.Itoa(out.Len()) + " rows read"
	}
	id := p.w.emit(Event{Node: db.d.name, Kind: KindQuery, Payment: p.payment, Peer: p.node.name, SQL: q, Args: args, Note: note})
	if db.d.onQuery != nil {
		db.d.onQuery(p, id)
	}
	p.sleep(stmtCostUs)
	return out
}

// Query runs a read inside the transaction: it sees the transaction's own
// writes. At serializable no other process can commit between it and the
// transaction's COMMIT; at read committed, before the transaction's first
// write, others can.
func (tx *Tx) Query(q string, args ...any) *Rows {
	return DB{tx.d, tx.p}.Query(q, args...)
}

// ErrNoRows is returned by Row.Scan when the query found no row, as
// database/sql's sql.ErrNoRows is.
var ErrNoRows = errors.New("no rows in result set")

// Row is the result of QueryRow, read with Scan like database/sql's, so
// that code a reader copies checks for the missing row as it must there.
type Row struct{ rows *Rows }

// QueryRow runs a read expected to find at most one row: the same step
// and the same event as Query.
func (db DB) QueryRow(q string, args ...any) *Row { return &Row{db.Query(q, args...)} }

// QueryRow is DB.QueryRow inside the transaction.
func (tx *Tx) QueryRow(q string, args ...any) *Row { return &Row{tx.Query(q, args...)} }

// Scan copies the first row into dest, or returns ErrNoRows when the
// query found none.
func (r *Row) Scan(dest ...any) error {
	if !r.rows.Next() {
		return ErrNoRows
	}
	r.rows.Scan(dest...)
	return nil
}

// Rows holds the result of a Query, read with Next and Scan like
// database/sql's.
type Rows struct {
	vals []any // row after row, cols values each
	cols int
	at   int
}

// Len is the number of rows.
func (r *Rows) Len() int {
	if r.cols == 0 {
		return 0
	}
	return len(r.vals) / r.cols
}

// Next moves to the next row; it returns false after the last.
func (r *Rows) Next() bool {
	r.at++
	return r.at <= r.Len()
}

// Scan copies the current row into dest, which may hold *int, *int64 and
// *string.
func (r *Rows) Scan(dest ...any) {
	row := r.vals[(r.at-1)*r.cols : r.at*r.cols]
	for i, d := range dest {
		switch d := d.(type) {
		case *int:
			*d = int(asInt(row[i]))
		case *int64:
			*d = asInt(row[i])
		case *string:
			*d = asString(row[i])
		default:
			panic(fmt.Sprintf("sim: Scan: unsupported destination %T", d))
		}
	}
}

func asInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case nil:
		return 0
	}
	panic(fmt.Sprintf("sim: Scan: %T is not an integer", v))
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func dbScope(d *database) uint32 { return d.scope }

// bg is the context for SQL calls: a run is one synchronous computation, so
// there is nothing to cancel mid-statement.
var bg = context.Background()
