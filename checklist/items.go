package checklist

// The items, in the order a reviewer meets the problems: first whether the
// two writes can diverge at all, then what duplicates and timeouts do to
// them, then reads, partitions and ordering, and last the control that
// catches whatever got through.
//
// Report keys and fault names are the simulator's own vocabulary, and every
// key an item counts is one that some design's runs report (a test holds it
// to that). A run of a design that does not measure an item's keys (a
// retry design has no ledger to lose an entry from) leaves the item not
// demonstrable on that run.
var items = []Item{
	{
		ID:    "atomic-publish",
		Title: "State and the intent to publish commit together",
		Question: "Does the state change commit in the same local transaction as the record of what must be published " +
			"(an outbox row), rather than as two writes with no plan for a failure between them?",
		Why: "If the payment commits and the publish then fails, the ledger never hears of money the customer was charged, " +
			"and the two systems disagree for good without anyone being told. Swap the order and the ledger moves money " +
			"for a charge that never happened. Either way finance reconciles by hand, and an AML monitor that reads the " +
			"event stream never screens the payment it was there to screen.",
		Bad: `db.Save(payment)
bus.Publish(paymentEvent) // a blip here and the event is gone`,
		GoodFrom:   "outbox-save",
		Invariants: []string{"lost", "phantom"},
		Situation:  "a fault struck a payment when one of the payments database and the bus had it and the other did not",
		Exercise:   []string{"split_writes"},
		TurnOn:     []string{"bus.publish.fail", "db.fail"},
		Rerun:      Rerun{Faults: "bus.publish.fail=0.1,db.fail=0.1", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "dual-write", Good: "outbox-idempotent", Faults: "bus.publish.fail=0.1", Seed: 42, Payments: 200},
			{Bad: "publish-first", Good: "outbox-idempotent", Faults: "bus.publish.fail=0.1,db.fail=0.1", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "source-of-truth",
		Title: "The owner commits first, and copies are never written back",
		Question: "Is one place named as the owner of each fact, does nothing downstream act on the fact " +
			"before the owner has committed it, and are derived copies (the ledger's view, caches, replicas, " +
			"search indexes) never written back into the owner?",
		Why: "Publishing before saving makes the message the truth and the database a hopeful copy. When the save fails, " +
			"the ledger has already moved the money, and the suspicious-activity report lists a payment that the payment " +
			"system says never existed. The same inversion happens later when a repair job copies a ledger or cache value " +
			"back over the owner's row: a copy that was wrong now overwrites the truth, and every other copy follows it.",
		Bad: `bus.Publish(paymentEvent) // the ledger may act now
db.Save(payment)          // and this may still fail

// later, a "repair" job
for _, e := range ledger.EntriesSince(yesterday) {
	payments.Upsert(e.PaymentID, e.Amount) // a copy overwrites the owner
}`,
		Good: `// payments owns the payment; the ledger, the cache and the replica
// derive from its events and are rebuilt from them, never the reverse
diffs, err := reconcile.Differences(ctx)
if err != nil {
	return err // and the job's own failure alerts: silence is not "no differences"
}
for _, d := range diffs {
	alerts.Raise(d) // a person corrects the owner with a new fact (a
	                // refund, a reversal), which flows out like any event
}`,
		Follows: "Kleppmann, Designing Data-Intensive Applications: the introduction to Part III (Systems of Record and " +
			"Derived Data) and chapters 11 and 12.",
		Invariants: []string{"phantom"},
		Situation:  "a payment's save in the payments database failed",
		Exercise:   []string{"failed_saves"},
		TurnOn:     []string{"db.fail", "crash.service"},
		Rerun:      Rerun{Faults: "db.fail=0.1", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "publish-first", Good: "outbox-idempotent", Faults: "db.fail=0.1", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "relay-until-acked",
		Title: "The relay marks a row sent only after the broker acknowledges it",
		Question: "Does the outbox relay keep publishing a row until the broker acknowledges it, mark it sent only " +
			"after the acknowledgement, and carry on where it left off after a crash?",
		Why: "An outbox whose relay marks rows sent before the broker has them, or gives up after a few tries, has " +
			"only moved the loss: the payment is saved, the event is gone, and the ledger is short by exactly the " +
			"amount nobody can find. Delivery must be at least once; at most once is a silent loss. A relay that " +
			"remembers the last id it sent and polls for larger ones skips rows on PostgreSQL: ids come from a " +
			"sequence in the order rows are inserted, not the order they commit, so a transaction that took id 41 " +
			"can commit after the relay has moved past 42. Polling for rows still unsent cannot skip one.",
		Bad: `row := outbox.Next()
outbox.MarkSent(row) // marked before the broker has it
bus.Publish(row.Event)`,
		Good: `// what is still unsent, never "id > last cursor": sequence order is
// not commit order, and a late commit behind the cursor would be skipped
batch, err := unsent(ctx, db, "SELECT id, event_id, payload FROM outbox" +
	" WHERE sent_at IS NULL ORDER BY id LIMIT 32") // rows read, closed, rows.Err checked
if err != nil {
	return err // the next poll tries again
}
for _, row := range batch {
	if err := bus.Publish(ctx, row.EventID, row.Payload); err != nil {
		break // still unsent: the next poll publishes it again, no give-up
	}
	if _, err := db.ExecContext(ctx, "UPDATE outbox SET sent_at = now() WHERE id = $1", row.ID); err != nil {
		return err // published, not marked: published again, and deduplicated
	}
}
// alert on the age of the oldest unsent row, not on errors alone:
// SELECT now() - min(created_at) FROM outbox WHERE sent_at IS NULL`,
		Follows: "microservices.io, Transactional outbox; PostgreSQL documentation, Sequence Manipulation Functions " +
			"(nextval is never rolled back, and values are handed out as rows are inserted, so they say nothing of the order " +
			"in which those rows commit).",
		Invariants: []string{"lost"},
		Situation:  "a fault struck a payment between its commit and the bus",
		Exercise:   []string{"split_writes"},
		TurnOn:     []string{"bus.publish.fail", "crash.relay"},
		Rerun:      Rerun{Faults: "bus.publish.fail=0.1", Seed: 42, Payments: 200},
		Part:       "relay_polls",
		PartName:   "outbox relay",
		Demos: []Demo{
			{Bad: "dual-write-retry", Good: "outbox-idempotent", Faults: "bus.publish.fail=0.5", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "idempotent-consumer",
		Title: "Consumers are idempotent",
		Question: "Does every consumer record the event id under a unique key in the same transaction as its effect, " +
			"so that a second delivery of the same event changes nothing?",
		Why: "Brokers deliver at least once: after a lost acknowledgement, a rebalance or a consumer restart the same " +
			"event arrives again. A consumer that posts on every delivery debits the customer twice, and to the AML " +
			"monitor the copy looks like a second real payment, which can raise a structuring alert for activity " +
			"that never happened.",
		Bad: `func onPayment(ev Event) {
	ledger.Post(ev.Account, ev.Amount) // twice if delivered twice
}`,
		GoodFrom:   "consumer-dedup",
		Invariants: []string{"duplicate_effects"},
		Situation:  "a delivery reached the consumer for a payment it had posted or was posting already",
		Exercise:   []string{"duplicate_deliveries"},
		TurnOn:     []string{"net.dup", "bus.redeliver", "bus.ack.lost"},
		Rerun:      Rerun{Faults: "net.dup=0.1,bus.redeliver=0.1", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "outbox", Good: "outbox-idempotent", Faults: "net.dup=0.1,bus.redeliver=0.1", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "dedup-by-event-id",
		Title: "Deduplicate on the event id, durably",
		Question: "Is the deduplication key the event's own id, minted once when the outbox row is written " +
			"(never per publish attempt, never the broker's offset), and committed with the effect, rather than a " +
			"hash of the payload, an in-memory set of recent ids, or a cache entry that expires before redelivery stops?",
		Why: "Two genuine payments of €50 to the same account have the same payload; deduplicating on its hash drops " +
			"the second, and the customer's money is gone. An in-memory set of seen ids is empty after a restart, " +
			"which is exactly when a broker redelivers, so the copy posts. An id made afresh for each publish attempt, " +
			"or the broker's offset, differs between the copies a relay publishes after a lost acknowledgement, so " +
			"nothing is ever a duplicate. All of these pass every test that never restarts the consumer.",
		Bad: `seen := map[string]bool{}   // empty after a restart
key := sha256(ev.Payload)    // equal for two real €50 payments
if seen[key] { return }`,
		Good: `// the producer mints ev.ID once, in the transaction that writes the
// payment and its outbox row; every publish of the row carries it.

// the consumer: that id under a unique key, committed with the effect
// (not the broker's offset: a copy published again gets a new offset)
tx, err := db.BeginTx(ctx, nil)
if err != nil {
	return err
}
defer tx.Rollback() // a no-op once committed
res, err := tx.ExecContext(ctx, "INSERT INTO processed_events (event_id)" +
	" VALUES ($1) ON CONFLICT DO NOTHING", ev.ID)
if err != nil {
	return err
}
if n, err := res.RowsAffected(); err != nil {
	return err
} else if n == 0 {
	return nil // a copy: posted already, acknowledge it
}
if _, err := tx.ExecContext(ctx, "INSERT INTO ledger_entries (event_id, account, amount_cents)" +
	" VALUES ($1, $2, $3)", ev.ID, ev.Account, ev.AmountCents); err != nil {
	return err
}
return tx.Commit()`,
		Follows:    "microservices.io, Idempotent consumer; the outbox and outbox-idempotent designs mint the id in saveWithOutbox.",
		Invariants: []string{"duplicate_effects"},
		Situation:  "a delivery reached the consumer for a payment it had posted or was posting already",
		Exercise:   []string{"duplicate_deliveries"},
		TurnOn:     []string{"bus.redeliver", "crash.consumer"},
		Rerun:      Rerun{Faults: "bus.redeliver=0.2", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "outbox", Good: "outbox-idempotent", Faults: "bus.redeliver=0.2", Seed: 42, Payments: 200},
		},
		Gap: "The simulator does not model a consumer that deduplicates on a payload hash or in memory; " +
			"the runs show what happens with no durable deduplication at all.",
	},
	{
		ID:    "exactly-once-scope",
		Title: "An exactly-once claim says what it covers",
		Question: "Where a design claims exactly-once delivery, does it say which hops that covers, and are effects " +
			"outside the broker (ledger writes, card charges, e-mails) still made idempotent?",
		Why: "Broker transactions make a read-process-write inside the broker happen once. They do not reach the ledger " +
			"database, the card network or the customer's inbox. A team that takes the claim at face value skips the " +
			"deduplication table, and the first redelivery after a failover posts the payment twice.",
		Bad: `// "the broker is exactly-once, so no dedup needed"
consumer.OnMessage(func(ev Event) { ledger.Post(ev) })`,
		Good: `// exactly once inside the broker; the ledger write is idempotent
consumer.OnMessage(func(ev Event) error { return postOnce(ev) })`,
		Invariants: []string{"duplicate_effects"},
		Situation:  "a delivery reached the consumer for a payment it had posted or was posting already",
		Exercise:   []string{"duplicate_deliveries"},
		TurnOn:     []string{"bus.redeliver", "net.dup"},
		Rerun:      Rerun{Faults: "bus.redeliver=0.2", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "outbox", Good: "outbox-idempotent", Faults: "bus.redeliver=0.2", Seed: 7, Payments: 200},
		},
	},
	{
		ID:    "poison-messages",
		Title: "A message that can never be processed is parked with its reason, not dropped or retried forever",
		Question: "When a consumer meets a message it can never process (a schema it cannot parse, a value it " +
			"rejects), does it tell that apart from a failure that passes, retry only what can pass, with backoff " +
			"and a bound, and park the rest in a dead-letter queue with the reason and the content, in the " +
			"transaction that marks it handled, acknowledging only after that commit; and does that queue alert " +
			"a person who owns it and can replay it?",
		Why: "A consumer that logs an error and acknowledges has dropped the payment: the broker forgets it, the " +
			"ledger never posts it, and the only trace is a log line nobody reads until reconciliation finds the " +
			"gap at month-end. It drops more than poison: a commit that failed once and would have passed on the " +
			"next try is lost the same way. Retrying everything forever is no better: on an ordered partition one " +
			"unreadable message holds up every payment behind it, and settlement deadlines pass while it retries. " +
			"A dead-letter queue nobody watches, or one with no way back into the ledger, only moves the loss " +
			"somewhere quieter.",
		Bad: `func onPayment(msg Message) error {
	if err := post(msg); err != nil {
		log.Printf("skipping %s: %v", msg.ID, err) // and nothing else
	}
	return nil // acknowledged: the broker forgets it, the payment is lost
}`,
		GoodFrom: "dead-letter",
		Follows: "Amazon SQS Developer Guide, Using dead-letter queues: a redrive policy's maxReceiveCount moves a " +
			"message that keeps failing to the dead-letter queue, which needs an alarm and a redrive back to the " +
			"source once the cause is fixed; Hohpe and Woolf, Enterprise Integration Patterns, Dead Letter Channel.",
		Invariants: []string{"lost"},
		Situation:  "a message the consumer can never process reached it",
		Exercise:   []string{"poison_messages"},
		TurnOn:     []string{"bus.poison"},
		Rerun:      Rerun{Faults: "bus.poison=0.05", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "consumer-ack-drop", Good: "consumer-dead-letter", Faults: "bus.poison=0.05", Seed: 42, Payments: 200},
			{Bad: "consumer-ack-drop", Good: "consumer-dead-letter", Faults: "db.fail=0.1,bus.poison=0.05", Seed: 42, Payments: 200},
		},
		Gap: "Runs do not show the consumer that blocks: the simulated broker delivers each message on its own, " +
			"with no ordered partition, so a poison message retried forever holds up nothing behind it here. Nor " +
			"do they show a message that crashes the consumer itself, which only a bound the broker keeps (SQS's " +
			"maxReceiveCount, a retry topic's attempt header) can catch, or the replay: post from the " +
			"dead_letters row and delete it in one transaction, the event id staying recorded as handled.",
	},
	{
		ID:    "timeout-is-unknown",
		Title: "A timeout means the outcome is unknown",
		Question: "Does every caller treat a timeout as \"outcome unknown\" and resolve it, by retrying an idempotent " +
			"operation or by asking, never by assuming the call failed?",
		Why: "A publish that timed out may have been stored; a charge that timed out may have been made. Treat the " +
			"timeout as a failure and try again, and the payment posts twice; treat it as a failure and give up, and " +
			"the payment is lost. Either way the balance is off by a whole payment, and the audit trail shows two " +
			"payments or none.",
		Bad: `if err := bus.Publish(ev); errors.Is(err, ErrTimeout) {
	bus.Publish(ev) // it may be stored already: now it is there twice
}`,
		Good: `// unknown is not failed: resolve it by asking, never by assuming
resp, err := psp.Charge(ctx, attempt.Key, card, amount) // the key rides along
for i := 1; isUnknown(err) && i <= 3; i++ { // a timeout, a reset, a 5xx
	if err := backoff(ctx, i); err != nil {
		break
	}
	resp, err = psp.Lookup(ctx, attempt.Key) // what did the first call do?
}
if errors.Is(err, psp.ErrNoSuchCharge) {
	resp, err = psp.Charge(ctx, attempt.Key, card, amount) // never made: same key
}
if isUnknown(err) {
	return ErrPending // still unknown: the attempt stays pending, and the
	                  // client's retry or the recovery job asks again
}
// an event: leave its outbox row unsent; the relay publishes it again
// with the same id until acknowledged, and the consumer deduplicates`,
		Follows: "Stripe's API reference, Idempotent requests (a request whose outcome is unknown is retried with the same key, " +
			"which returns the first result); Brandur Leach, Implementing Stripe-like Idempotency Keys in Postgres (pending " +
			"attempts finished by a completer).",
		Invariants: []string{"duplicate_effects", "double_charges"},
		Situation:  "a call timed out, and its caller could not know whether it had happened",
		Exercise:   []string{"timeouts"},
		TurnOn:     []string{"bus.ack.lost", "net.drop"},
		Rerun:      Rerun{Faults: "bus.ack.lost=0.2,net.drop=0.1", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "dual-write-retry", Good: "outbox-idempotent", Faults: "bus.ack.lost=0.2", Seed: 42, Payments: 200},
			{Bad: "retry-naive", Good: "retry-idempotency-key", Faults: "net.drop=0.1", Seed: 42, Payments: 200},
			{Bad: "psp-naive", Good: "psp-atomic-phases", Faults: "net.drop=0.1", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "idempotency-key",
		Title: "Retries carry an idempotency key",
		Question: "Does every retried request that moves money carry an idempotency key that the service claims " +
			"under a unique constraint in the same transaction as the charge, and keeps for longer than any client retries?",
		Why: "The card is charged, the response is lost, the app retries, and the customer is charged again: the " +
			"textbook double charge, followed by a chargeback. A key checked with a read and then an insert lets two " +
			"concurrent retries both charge; a key that expires after an hour lets the retry queue that drains after " +
			"an outage charge again. A card network does not join your database transaction: call it inside one, " +
			"let the commit fail after the charge succeeded, and the key rolls back while the money has moved, so " +
			"the retry charges again.",
		Bad: `func charge(req ChargeRequest) Response {
	return cards.Charge(req.Card, req.Amount) // a retry charges again
}`,
		GoodFrom:   "atomic-phases",
		Follows:    "Brandur Leach, Implementing Stripe-like Idempotency Keys in Postgres (atomic phases); Stripe's API reference, Idempotent requests.",
		Invariants: []string{"double_charges"},
		Situation:  "a client asked again for a payment whose charge had committed",
		Exercise:   []string{"retries_after_charge"},
		TurnOn:     []string{"net.drop"},
		Rerun:      Rerun{Faults: "net.drop=0.1", Seed: 42, Payments: 200},
		Part:       "keyed_requests",
		PartName:   "idempotency key",
		Demos: []Demo{
			{Bad: "retry-naive", Good: "retry-idempotency-key", Faults: "net.drop=0.1", Seed: 42, Payments: 200},
			{Bad: "psp-naive", Good: "psp-atomic-phases", Faults: "db.fail=0.1", Seed: 42, Payments: 200},
		},
		Gap: "Runs resume a pending attempt only when the client tries again with its key. A client may never " +
			"return, so production needs a recovery job that finds attempts pending for longer than a request lasts " +
			"and finishes them: look the key up at the provider and record what it says (Brandur Leach's completer). " +
			"Store the request's parameters with the key too, and refuse a key sent again with different ones, as " +
			"Stripe does; the simulator's clients never reuse a key for another payment.",
	},
	{
		ID:    "third-party-calls",
		Title: "A third party is called under one key, and an unknown outcome is looked up",
		Question: "Does every call that moves money at a third party (a card charge, a payout, a transfer) carry an " +
			"idempotency key fixed before the first try and committed with a pending attempt before the call, and is " +
			"a timeout resolved by asking the provider about that key rather than by marking the payment failed?",
		Why: "A provider that timed out may have charged the card. Mark the payment failed, let the client retry " +
			"with a fresh key, and the provider sees a new charge: the customer pays twice, disputes one, and the " +
			"chargeback fee and the support call are yours. The provider deduplicates only on the key it is given; a " +
			"key made per attempt, or one not stored before the call, gives it nothing to deduplicate on.",
		Bad: `ref, err := psp.Charge(ctx, newKey(), card, amount) // a new key per try
if err != nil {
	markFailed(payment) // a timeout is not a failure: it may be charged
	return err          // the client retries, and the card is charged again
}`,
		GoodFrom:   "atomic-phases",
		Follows:    "Brandur Leach, Implementing Stripe-like Idempotency Keys in Postgres; Stripe's API reference, Idempotent requests.",
		Invariants: []string{"double_charges"},
		Situation:  "a client asked again for a payment whose card the provider had charged",
		Exercise:   []string{"retries_after_charge"},
		Rerun:      Rerun{Faults: "net.drop=0.1", Seed: 42, Payments: 200},
		TurnOn:     []string{"net.drop", "db.fail"},
		Demos: []Demo{
			{Bad: "psp-naive", Good: "psp-atomic-phases", Faults: "net.drop=0.1", Seed: 42, Payments: 200},
		},
		Gap: "An attempt left pending (the provider still unknown after the look-ups, or a crash between the phases) " +
			"is finished in runs only by the client's next try. In production a recovery job must look up every attempt " +
			"pending past a few minutes and record the provider's answer, or the customer is charged and the payment " +
			"never shows as paid.",
	},
	{
		ID:    "no-call-assumed",
		Title: "No call is assumed to succeed, or to succeed at once",
		Question: "Does every remote call have a timeout and a failure path that someone wrote on purpose, so that " +
			"no code assumes a call succeeds, or succeeds instantly?",
		Why: "Code that assumes a publish succeeded loses the payment the first time the broker blinks, and the loss " +
			"surfaces at month-end reconciliation, if at all. Code that publishes first and assumes its save will follow " +
			"moves money for a payment that was never made. Code that waits without a timeout holds a worker until " +
			"the queue of unprocessed payments misses the settlement cut-off.",
		Bad: `db.Save(payment)
bus.Publish(ev) // error ignored, no timeout
return OK`,
		Good: `ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
defer cancel()
// one remote call on the request path: the payment and its outbox row
// in one transaction (atomic-publish), never a save and then a publish
err := saveWithOutbox(ctx, payment, ev)
if isUniqueViolation(err) { // SQLSTATE 23505 on the payment's id
	return Accepted // a retry of a payment saved already: the same answer
}
if err != nil {
	return err // nothing committed, or (on a timeout) unknown: the
	           // client's retry with the same id finds it saved (above)
}
return Accepted // the relay publishes, with its own timeouts and retries`,
		Invariants: []string{"lost", "phantom"},
		Situation:  "a call failed or went unanswered after the other write had succeeded",
		Exercise:   []string{"split_writes"},
		TurnOn:     []string{"net.drop", "bus.publish.fail"},
		Rerun:      Rerun{Faults: "net.drop=0.1,bus.publish.fail=0.1", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "dual-write", Good: "outbox-idempotent", Faults: "net.drop=0.1", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "retry-discipline",
		Title: "Retries are bounded, backed off, jittered, and at one layer",
		Question: "Are retries bounded, spaced by exponential backoff with jitter, made at one layer only, and does " +
			"a request that runs out of retries land somewhere a person will see it?",
		Why: "Three layers that each make three attempts turn one failing call into 27, which is how a slow dependency " +
			"becomes an outage. Retries without jitter arrive together and fail together. A payment that ran out of " +
			"retries and was only logged is a lost payment with an alibi: it belongs in a dead-letter queue with an " +
			"alert and an owner.",
		Bad: `for { // forever, without a pause, at every layer
	if err := call(); err == nil {
		break
	}
}`,
		Good: `for attempt := 0; attempt < maxAttempts; attempt++ {
	err = call(ctx) // idempotent: it carries its key
	if err == nil || !retryable(err) {
		return err // a decline or a 4xx is an answer, not a blip
	}
	if !retryBudget.Withdraw() { // retries stay under ~10% of calls
		break
	}
	ceiling := min(maxBackoff, base<<attempt)
	if err := sleep(ctx, rand.N(ceiling)); err != nil { // full jitter: [0, ceiling)
		return err // the caller gave up: its deadline, not ours
	}
}
return errors.Join(err, deadLetters.Put(ctx, req, err)) // alerted and owned, not just logged`,
		Follows: "AWS Builders' Library, Timeouts, retries, and backoff with jitter; Google SRE book, Handling Overload (retry budgets).",
		Gap: "The simulator does not model load, so retry amplification and retries that arrive in lockstep " +
			"cannot show in a run; a design that gives up silently shows as lost payments under relay-until-acked.",
	},
	{
		ID:    "ordering-by-design",
		Title: "Ordering is guaranteed only where it is designed",
		Question: "Is ordering relied on only where the design provides it (one partition key per payment or " +
			"account), and does every consumer that keeps the latest state ignore an event older than the version it " +
			"already holds, while a consumer that adds up events (a ledger) applies each one once?",
		Why: "A refund that overtakes its capture leaves the payment marked captured after the money went back: " +
			"the dashboard says charged, the bank says refunded, and support believes the dashboard. Brokers order " +
			"messages within a partition, not across partitions, and retries can reorder even within one. Skipping an " +
			"older version is right only for state that the newest event replaces (a status); a ledger that adds up " +
			"amounts must apply every event exactly once, in any order. An UPDATE guarded by the version matches no " +
			"row before the first event has created it, so write the guard into an upsert.",
		Bad: `func onStatus(ev StatusEvent) {
	db.Exec("UPDATE payments SET status = ? WHERE id = ?",
		ev.Status, ev.PaymentID)
}`,
		GoodFrom:   "versioned-upsert",
		Invariants: []string{"out_of_order_applied"},
		Situation:  "a status event reached the consumer after a newer status of the same payment",
		Exercise:   []string{"out_of_order_deliveries"},
		Rerun:      Rerun{Seed: 42, Payments: 200},
		Part:       "versioned_statuses",
		PartName:   "version on each status",
		Tip:        "Raise jitter so that status events can overtake each other.",
		Demos: []Demo{
			{Bad: "consumer-naive", Good: "consumer-versioned", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "strong-reads-for-money",
		Title: "Money and AML decisions read the primary",
		Question: "Do decisions that move money or clear a compliance check (limits, balances, sanctions and " +
			"velocity checks) read the owner, in the transaction that records the decision, in a way that makes " +
			"two concurrent decisions wait for each other (a locked row or a conditional update)?",
		Why: "A limit check that reads a replica a few hundred milliseconds behind lets a burst of payments through, " +
			"each checked against a total that leaves out the others. Reading the primary is not enough: under " +
			"PostgreSQL's default READ COMMITTED, and under REPEATABLE READ, two payments of 40k checked at once both " +
			"see 250k spent of a 300k limit and both commit; SUM ... FOR UPDATE is refused outright, since FOR UPDATE " +
			"cannot lock an aggregate. The customer ends over the limit, and a structuring pattern slips under the " +
			"velocity threshold meant to catch it.",
		Bad: `total := replica.SumToday(customer) // lags the primary
if total+amount > limit {
	return Reject
}
primary.Save(payment)`,
		GoodFrom: "conditional-update",
		Follows: "PostgreSQL documentation, Transaction Isolation: under READ COMMITTED an UPDATE that finds its row " +
			"locked waits, then re-checks its WHERE against the committed row; under REPEATABLE READ or SERIALIZABLE, " +
			"if the lock holder commits a change to the row, it fails with SQLSTATE 40001 instead, and the transaction " +
			"must be retried.",
		Invariants: []string{"limit_breaches"},
		Situation:  "a payment was decided while the replica's total would let it through and the primary's would refuse it",
		Exercise:   []string{"limit_hidden_by_lag"},
		Rerun:      Rerun{Seed: 42, Payments: 200},
		Tip:        "Send more payments, so that customers reach their limits.",
		Demos: []Demo{
			{Bad: "decide-from-replica", Good: "decide-from-primary", Seed: 42, Payments: 200},
			{Bad: "decide-from-primary", Good: "decide-by-conditional-update", Seed: 42, Payments: 200, Isolation: "read-committed"},
		},
	},
	{
		ID:    "stale-reads-labelled",
		Title: "Eventual consistency is chosen, and labelled",
		Question: "Is every read that may be stale chosen as such on purpose, with its lag bounded and written " +
			"down, and kept away from decisions that need the current value?",
		Why: "Dashboards, search and statements can lag by seconds at no cost. The damage starts when a stale copy " +
			"is read as the truth: a cached balance deciding whether to release funds, a replica deciding whether a " +
			"customer is still under review. Which reads may be eventual is a design decision; leaving it to " +
			"whichever client a developer happened to pick is not.",
		Bad: `balance := cache.Get(account) // whose truth, and how old?
if balance >= amount {
	release(funds)
}`,
		Good: `// shown to the customer: eventual is fine, labelled, its lag alarmed
view := replica.Balance(account)
page.Show(view.Cents, "as of", view.AsOf)

// deciding: the owner checks and debits in one statement
res, err := primary.ExecContext(ctx, "UPDATE balances SET cents = cents - $1" +
	" WHERE account = $2 AND cents >= $1", amount, account)
if err != nil {
	return err // not a decline: on a timeout unknown, see timeout-is-unknown
}
if n, err := res.RowsAffected(); err != nil {
	return err
} else if n == 0 {
	return Declined // not enough money (or no such account)
}
release(funds) // only after the debit committed (a release that can fail
               // belongs in an outbox row written with the debit)`,
		Invariants: []string{"stale_decisions"},
		Situation:  "a payment was decided while the replica lacked a payment of its customer that the primary held",
		Exercise:   []string{"lagged_decisions"},
		Rerun:      Rerun{Seed: 42, Payments: 200},
		Tip:        "Raise replica-lag, so that a copy can fall behind.",
		Demos: []Demo{
			{Bad: "decide-from-replica", Good: "decide-from-primary", Seed: 42, Payments: 200},
		},
	},
	{
		ID:    "cache-invalidation",
		Title: "Decisions that matter read the owner, never the cache",
		Question: "Does every decision that moves money or enforces a compliance status (a freeze, a limit, a " +
			"sanctions hit) read the owner of the fact, with the cache allowed at most to refuse early, and can a " +
			"cache write never replace a newer value with an older one?",
		Why: "Cache-aside invalidation races: a reader misses, reads the database, and is slow to fill the cache; " +
			"meanwhile the AML team freezes the account and the writer deletes the key; then the reader's fill puts " +
			"the old \"active\" back. Until the entry expires, every payout from the frozen account is approved, " +
			"and nothing in the logs looks wrong. Even with no race, a freeze is invisible to the cache until its " +
			"delete arrives. A cache is a copy with an unknown age; decide on it and the age becomes the exposure.",
		Bad: `acct, hit := cache.Get(account)
if !hit {
	acct = db.Account(account)
	cache.Set(account, acct) // may land after a freeze's delete
}
if !acct.Frozen {
	payout(account, amount) // approved on a copy
}`,
		GoodFrom:   "owner-approves",
		Invariants: []string{"stale_payouts"},
		Situation:  "a payout's read of the cache returned a status older than the owner's",
		Exercise:   []string{"stale_cache_reads"},
		Rerun:      Rerun{Seed: 42, Payments: 300},
		Tip:        "Send more payments, so that the AML team freezes accounts while payouts are in flight.",
		Demos: []Demo{
			{Bad: "cache-aside-delete", Good: "cache-versioned", Seed: 42, Payments: 300},
		},
		Gap: "The simulated cache sets only if newer by comparing versions; a lease (Facebook's memcache leases) " +
			"is the other way to refuse a slow reader's fill, and is not simulated.",
	},
	{
		ID:    "read-your-writes",
		Title: "A customer reads their own writes",
		Question: "After a customer's write (a payment, a transfer), does every page that shows it back to them read " +
			"where it was written, or wait until the copy it reads has applied that write?",
		Why: "A confirmation page served from a lagging replica does not show the payment just made. To the customer " +
			"that is a payment that failed, so they pay again, and paying again is a new attempt with a new " +
			"idempotency key: no key can recognise it, and the card is charged twice. Idempotency keys stop a client's " +
			"retries; they cannot stop a person who was told the first payment did not happen. The refund, the " +
			"complaint and the chargeback follow.",
		Bad: `// every page reads the replica, to spare the primary
n := replica.QueryRow("SELECT COUNT(*) FROM charges" +
	" WHERE account = $1 AND payment = $2", account, payment)
if n == 0 {
	page.Show("no payment found") // the customer pays again, with a new key
}`,
		GoodFrom:   "read-your-writes",
		Invariants: []string{"double_payments"},
		Situation:  "a confirmation page was read while the replica lacked the charge the primary had just committed",
		Exercise:   []string{"confirm_lagged"},
		Rerun:      Rerun{Seed: 42, Payments: 200},
		Tip:        "Raise replica-lag above the round trip, so that a copy can trail the customer.",
		Demos: []Demo{
			{Bad: "confirm-from-replica", Good: "confirm-read-your-writes", Seed: 42, Payments: 200},
		},
		Gap: "Runs show the primary read. Where the customer's reads must stay on replicas, the same guarantee " +
			"comes from waiting, which runs do not show: keep the commit's log position (PostgreSQL's " +
			"pg_current_wal_lsn() after the commit) in the customer's session, and read a replica only once its " +
			"pg_last_wal_replay_lsn() has passed it, else read the primary.",
	},
	{
		ID:    "partition-choice",
		Title: "The partition choice is made per operation, and written down",
		Question: "For each operation, is it decided and written down what happens when the parts of the system " +
			"cannot reach each other: refuse (consistent), or accept within a stated, bounded risk (available)?",
		Why: "During a partition, two regions that both accept debits can each spend the same balance; the account " +
			"ends overdrawn and the bank carries the loss. Refusing debits protects the balance and costs sales. " +
			"Either can be right; a cap per payment is not, since many small payments in both regions add up to " +
			"any amount (and splitting a sum into small payments is what AML calls structuring). Bound the total " +
			"each region may spend. Not deciding is wrong, because then the answer is whatever the code happened to do.",
		Bad: `// each region debits its own copy and merges later
region.Debit(account, amount)`,
		GoodFrom:   "offline-budget",
		Follows:    "The escrow method (O'Neil, 1986) and bounded counters (Balegas et al., 2015): each replica spends only the share it holds.",
		Invariants: []string{"overdrafts"},
		Situation:  "a debit reached a region while the link between the regions was broken",
		Exercise:   []string{"debits_in_partition"},
		TurnOn:     []string{"net.partition"},
		Rerun:      Rerun{Faults: "net.partition=0.5", Seed: 42, Payments: 500},
		Costs:      []string{"rejected"},
		Demos: []Demo{
			{Bad: "partition-ap", Good: "partition-budget", Faults: "net.partition=0.5", Seed: 42, Payments: 500},
			{Bad: "partition-ap", Good: "partition-cp", Faults: "net.partition=0.5", Seed: 42, Payments: 500},
		},
		Gap: "Runs split every balance half and half, for good; a region whose share falls short asks the other to pay " +
			"from its share while the link works. A production escrow also moves unspent share between the regions " +
			"ahead of a partition, sized by where each account spends; runs show the bound, not how well the shares are placed.",
	},
	{
		ID:    "reconcile-and-alert",
		Title: "Reconciliation compares the places that hold state",
		Question: "Does a scheduled job compare every place that holds the same facts (payments database, ledger, " +
			"the payment provider's and the bank's statements), payment by payment and amount by amount, once each has " +
			"had time to settle, and alert a person when anything disagrees?",
		Why: "Every mechanism above can fail in a way nobody predicted. Reconciliation is the control that notices: " +
			"without it, drift between the payments database and the ledger is found by a customer, an auditor or a " +
			"regulator. Its output is what this simulator's checker reports after every run: lost, invented and " +
			"duplicated payments.",
		Bad: `// none: the outbox makes this impossible`,
		Good: `-- 1. In each database on its own (they are separate servers), loaded
--    into the reconciliation store as p, l and s:
--    payments: SELECT id, amount_cents, created_at FROM payments;
--    ledger:   SELECT payment_id, sum(amount_cents) AS amount_cents,
--                     count(*) AS entries, min(posted_at) AS first_posted
--              FROM ledger_entries GROUP BY payment_id;
--    s: the provider's settlement file (payment_id, amount_cents,
--       settled_at); join the bank's statement the same way.
-- 2. In the reconciliation store: payments past the grace window
--    (longer than the slowest source takes to settle) that disagree.
SELECT coalesce(p.id, l.payment_id, s.payment_id) AS payment
FROM p
FULL JOIN l ON l.payment_id = p.id
FULL JOIN s ON s.payment_id = coalesce(p.id, l.payment_id)
WHERE least(p.created_at, l.first_posted, s.settled_at) < now() - interval '2 days'
  AND (p.amount_cents IS DISTINCT FROM l.amount_cents
    OR l.entries IS DISTINCT FROM 1
    OR p.amount_cents IS DISTINCT FROM s.amount_cents);
-- 3. Any row pages a person, and each row gets an owner.`,
		Invariants: []string{"lost", "phantom", "duplicate_effects"},
		Situation:  "a fault struck a payment between its two writes, or a duplicate delivery reached the consumer",
		Exercise:   []string{"split_writes", "duplicate_deliveries"},
		TurnOn:     []string{"bus.publish.fail", "net.dup"},
		Rerun:      Rerun{Faults: "net.dup=0.05,bus.publish.fail=0.05", Seed: 42, Payments: 200},
		Demos: []Demo{
			{Bad: "dual-write", Good: "outbox-idempotent", Faults: "net.dup=0.05,bus.publish.fail=0.05", Seed: 42, Payments: 200},
		},
	},
}
