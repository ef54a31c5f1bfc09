/**
 * Every error code troupe raises, with what it means and what to do about it. This list is the
 * source: TroupeError's constructor takes only these codes, and docs/errors.md states
 * the same table (test/unit/error-codes.test.ts keeps the two, and the code, in step).
 *
 * `class` names the TroupeError subclass that raises the code, for the cases a caller tells
 * apart with `instanceof`; `from` is the entry that exports it, absent where troupe catches the
 * error itself. A code without a class is raised as a plain TroupeError: match it by `code`.
 */
export interface ErrorCodeInfo {
  /** The class that raises the code, when callers catch this case specifically. */
  readonly class?: string
  /** The entry point that exports `class`; absent for a class troupe only catches itself. */
  readonly from?: 'troupe' | 'troupe/aws' | 'troupe/local'
  /** What happened, in one line. */
  readonly meaning: string
  /** What the user does about it, in one line. */
  readonly remedy: string
}

export const errorCodes = {
  TROUPE_ASK_FAILED: {
    class: 'AskFailedError',
    from: 'troupe',
    meaning: 'An `ask` ended without a reply: its message was dead-lettered or filtered.',
    remedy: "Read the cause (the turn's last error) or the dead letter; fix the actor and replay the letter.",
  },
  TROUPE_ASK_TIMEOUT: {
    class: 'AskTimeoutError',
    from: 'troupe',
    meaning: 'An `ask` got no reply within its timeout; the message may still run.',
    remedy: "Raise `timeoutMs`, or follow the message's receipt; the error names its last status.",
  },
  TROUPE_BAD_CHECKPOINT: {
    meaning: 'A shard checkpoint was not a Kinesis sequence number; nothing was written.',
    remedy: 'Checkpoint with the sequence number of a record read from that shard.',
  },
  TROUPE_BAD_INVOCATION: {
    meaning: 'A troupe Lambda function got an event that is not a Kinesis batch, an ask or a tick; a Kinesis batch that no event source mapping sends (two shards or streams, records out of order, a record naming no stream or without the decimal sequence number Kinesis gave it); or an ask whose message it cannot read.',
    remedy: "Invoke it through troupe (AwsSystem, the event source mapping, the tick schedule), with the same record codec as the function's.",
  },
  TROUPE_BAD_RECORD: {
    meaning: 'A stream record no host could read as a message; it is a dead letter with all of its bytes (this is its error code).',
    remedy: 'Deploy a codec or actor that reads it, then replay the letter: its bytes go back on the stream they came from.',
  },
  TROUPE_BUNDLE: {
    meaning: 'Bundling a Lambda failed: esbuild is not installed, reported errors, or wrote no entry file.',
    remedy: 'Read the errors in the message; `npm install esbuild` if it is missing; give the outfile an extension (`.mjs`).',
  },
  TROUPE_CONFIG: {
    class: 'ConfigError',
    from: 'troupe',
    meaning: 'Options given to troupe are wrong; the message names the option.',
    remedy: 'Fix the option the message names.',
  },
  TROUPE_CONSUMER_NOT_IDLE: {
    meaning: "A shard consumer's `idle()` timed out before the records put before the call were all handled.",
    remedy: 'Look at what the message names as not idle (a shard behind, a batch running); wait longer or find the stuck turn.',
  },
  TROUPE_CONSUMER_STATE: {
    meaning: 'A shard consumer was started twice, or waited on for idle when not running (or it stopped first).',
    remedy: 'Start a consumer once, and wait for idle between `start()` and `stop()`.',
  },
  TROUPE_DEAD_LETTER_NOT_STORED: {
    meaning: "A dead letter could not be written: it cannot be encoded even without its body, or it is over DynamoDB's 400 KB even as a summary.",
    remedy: "Report it with the message: the letter's envelope or error holds something troupe cannot keep.",
  },
  TROUPE_DEAD_LETTER_PAYLOAD: {
    class: 'DeadLetterPayloadError',
    meaning: 'A dead letter kept whole in the payload store is gone there, or its bytes changed; its summary is listed and replay refuses it.',
    remedy: 'Restore the object in the payload store, or leave the letter as its summary.',
  },
  TROUPE_DEAD_LETTER_UNREADABLE: {
    class: 'UnreadableLetterError',
    meaning: "A dead letter's item holds no letter troupe can read (written by hand, or damaged): it is listed by its key with this error, and replay refuses it.",
    remedy: 'Look at the item in the table (its `letter` attribute); delete it, or write the letter back as troupe wrote it.',
  },
  TROUPE_DEPLOY: {
    meaning: 'An AWS call of a deploy failed, or a function or an EventBridge target did not come up.',
    remedy: "Read AWS's error in the message (permissions, limits, a function that fails to start), fix it, and deploy again.",
  },
  TROUPE_DEPLOY_TABLE: {
    meaning: "The table to deploy to exists with other keys than troupe's, or has TTL on another attribute.",
    remedy: "Give another table name: a table's keys and its TTL attribute cannot change.",
  },
  TROUPE_DEPLOY_TIMEOUT: {
    meaning: 'A deploy step waited too long for AWS (a function, stream or table to be ready).',
    remedy: 'Look at the resource the message names in AWS, and deploy again.',
  },
  TROUPE_INCONSISTENT_RECORD: {
    meaning: "A record at or below an instance's watermark carries a message the instance never applied (a corrupted or hand-made batch); it is a dead letter, not skipped.",
    remedy: 'Find where the record came from; replay the letter to apply it if it is genuine.',
  },
  TROUPE_INSPECT_BAD_ANSWER: {
    meaning: "The address given to `troupe inspect --url` or `troupe ui --url` answered with something that is not troupe's.",
    remedy: 'Point `--url` at the address the process serves inspection on.',
  },
  TROUPE_INSPECT_NOT_AVAILABLE: {
    meaning: '`troupe inspect` was asked what its source cannot know: `cost` of the embedded mode (it makes no AWS requests), or over a table without the hosts\' metrics (`--metrics none`).',
    remedy: 'Ask a source that counts requests: `--url` to `troupe dev` or an AWS-mode process, or `--table` with `--metrics cloudwatch`.',
  },
  TROUPE_INSPECT_NOT_FOUND: {
    meaning: '`troupe inspect` was asked for an instance, a message or a request its source knows nothing of: no such instance, a message that kept no receipt or is past its time, a request none of whose messages is known.',
    remedy: 'Check the id or key; not every message keeps a receipt (asked, retried and dead-lettered ones do, and those `receiptsForAll`, `{ receipt: true }` or `traceSampleRate` keep), and receipts are kept for a while, not for ever.',
  },
  TROUPE_INSPECT_REFUSED: {
    meaning: 'The inspection server refused a request (no or a wrong token, a bad argument); its reason is in the message. A refusal by troupe itself (no such dead letter, a replay under way) keeps the code of that error.',
    remedy: 'Pass the token (`--token` or TROUPE_UI_TOKEN), or fix what the reason names.',
  },
  TROUPE_INSPECT_UNREACHABLE: {
    meaning: 'Nothing answers at the inspection address, or at the server of the table (`--table`) to inspect.',
    remedy: 'Start the process that serves inspection, or fix `--url`; for a table, start its local server or fix `--endpoint`, `--kinesis-endpoint` or `--region`.',
  },
  TROUPE_INVALID_ENVELOPE: {
    class: 'InvalidEnvelopeError',
    from: 'troupe/aws',
    meaning: 'A message cannot become a Kinesis record: a field is out of range, or its body cannot be encoded safely; nothing was sent.',
    remedy: 'Fix what the reason names (a key or id too long, a body that does not encode); the message is a dead letter.',
  },
  TROUPE_INVALID_MESSAGE: {
    class: 'ValidationError',
    from: 'troupe',
    meaning: "A message body failed the actor's schema; nothing was sent.",
    remedy: 'Fix the body: `issues` names each path and what is wrong there.',
  },
  TROUPE_INVALID_RECEIPT: {
    meaning: 'A journal store refused a receipt entry whose attempt or time is out of range; nothing of that call was written.',
    remedy: 'Write receipts with whole attempts and epoch milliseconds (a custom host or store has a bug).',
  },
  TROUPE_INVALID_TIMER: {
    meaning: "A timer's `dueAt` is not epoch milliseconds; nothing was written.",
    remedy: 'Schedule at a finite time in epoch milliseconds (`Date.now() + ms`).',
  },
  TROUPE_INVOKE_FAILED: {
    meaning: 'An ask by Lambda Invoke: the function failed, or its answer is not troupe\'s; the message is not put on the stream again.',
    remedy: "Read the function's error in the message and its logs; fix it and ask again.",
  },
  TROUPE_INVOKE_UNANSWERED: {
    meaning: 'An ask by Lambda Invoke got no answer; the message was put on its stream, and applies once.',
    remedy: "Follow the message's receipt (`awaitReceipt`) rather than ask again.",
  },
  TROUPE_ITEM_UNREADABLE: {
    meaning: "An instance item's bookkeeping (`m` in the table) is not as troupe writes it (a list or an object changed by hand or by another tool); the host neither runs nor overwrites it, since what it has applied cannot be known, and its records wait for redelivery: its shard waits at its first record, and the other keys of the batch run.",
    remedy: 'Restore the field from a backup or remove the damaged field (`troupe inspect` names it); the waiting records then run. Removing `held` or `parked` drops the messages they kept.',
  },
  TROUPE_JOIN_TOO_LARGE: {
    class: 'ItemTooLargeError',
    from: 'troupe',
    meaning: "The replies a fork's joiner holds would be over DynamoDB's 400 KB item.",
    remedy: 'Reply with less: large results belong in S3, with their key in the reply.',
  },
  TROUPE_LAMBDA_BAD_REQUEST: {
    meaning: 'A local Lambda function was invoked with a payload that is not JSON.',
    remedy: 'Send JSON, as Lambda requires.',
  },
  TROUPE_LAMBDA_INIT: {
    meaning: "Provisioning a local Lambda function failed: the bundle's top-level code threw.",
    remedy: 'Fix the error the message names; it would fail the same way on Lambda.',
  },
  TROUPE_LAMBDA_NODE: {
    meaning: "The local Lambda found no Node binary of its runtime's major version, and could not install one.",
    remedy: 'Set TROUPE_LAMBDA_NODE_<major>=/path/to/node, or run troupe itself on that Node version.',
  },
  TROUPE_LAMBDA_NOT_IDLE: {
    class: 'NotIdleError',
    from: 'troupe/local',
    meaning: 'A wait for the local Lambda path to be idle timed out; `busy` says what still was.',
    remedy: 'Wait longer, or look at what is busy (a function still running, a mapping behind).',
  },
  TROUPE_LAMBDA_REQUEST_TOO_LARGE: {
    class: 'RequestTooLargeError',
    from: 'troupe/local',
    meaning: 'A request to a local Lambda function is over the 6 MB synchronous payload limit; nothing ran.',
    remedy: 'Send less: large payloads belong in S3, with their key in the request.',
  },
  TROUPE_LAMBDA_STOPPED: {
    meaning: 'A local Lambda function was invoked after it was stopped.',
    remedy: 'Invoke it before `stop()`, or start a new one.',
  },
  TROUPE_LANE_LIMIT: {
    meaning: "A message its instance's memory of lanes (what it keeps of each process or shard that sends to it) has no room to remember; it is a dead letter, not applied.",
    remedy: 'Replay the letter once the memory has room again (the reason says when lanes are forgotten); look for a producer that makes up origins, or thousands of processes telling one key.',
  },
  TROUPE_LEASE_LOST: {
    class: 'LeaseLostError',
    meaning: 'A shard lease write found another holder, or no lease: this consumer must stop reading the shard.',
    remedy: "Nothing: troupe's consumer lets the shard go, and its new holder carries on from the checkpoint.",
  },
  TROUPE_LOCAL_AWS_MISSING: {
    meaning: 'The local AWS stack needs an npm package that is not installed (dynalite, kinesalite or kinesis-local).',
    remedy: 'Run the `npm install --save-dev` the message names.',
  },
  TROUPE_LOCAL_AWS_START: {
    meaning: 'kinesis-local did not start: it exited, or did not listen in time.',
    remedy: 'Read its output in the message, fix the cause, and start again.',
  },
  TROUPE_MISSING_PEER: {
    class: 'MissingPeerError',
    from: 'troupe',
    meaning: 'An optional peer package this feature needs is not installed.',
    remedy: 'Run the `npm install` the message names.',
  },
  TROUPE_NOT_PAUSABLE: {
    class: 'NotPausableError',
    from: 'troupe',
    meaning: "On AWS, a pause of an actor that keeps no state: a paused actor's messages wait in its instance's item, and it has none.",
    remedy: 'Pause the stateful actor that sends to it instead.',
  },
  TROUPE_NOT_REPLAYABLE: {
    meaning: 'Replay refused the letter of an unreadable record: it has no bytes, its base64 is not whole, or its stream is not one this system writes to.',
    remedy: 'It stays a dead letter: read its body by hand, or replay it from a system that writes to that stream.',
  },
  TROUPE_NOT_SERIALIZABLE: {
    class: 'NotSerializableError',
    from: 'troupe',
    meaning: 'A message, state or reply holds something superjson cannot carry (a function, a class instance, a key named __proto__, constructor or prototype) at the path named; nothing was sent. On AWS with the check off, a turn whose state or sent messages hold one is a dead letter with this error, and an ask whose reply holds one fails with it (the turn stands).',
    remedy: 'Send data: plain objects, arrays, primitives, Date, Map, Set, BigInt, RegExp, URL, Error; keep user input that may be any word in a Map, not as object keys.',
  },
  TROUPE_NO_DEAD_LETTER: {
    class: 'NoDeadLetterError',
    from: 'troupe',
    meaning: '`replay` found no dead letter with that message id: it never was one, or was replayed already.',
    remedy: 'Take the id from `deadLetters()`; a replayed letter leaves that list.',
  },
  TROUPE_NO_RECEIPT: {
    meaning: 'The embedded system keeps no receipt for the message awaited.',
    remedy: 'Pass `{ receipt: true }` to `tell`, and await it before the receipt is evicted.',
  },
  TROUPE_NO_STREAM: {
    meaning: 'A Kinesis stream did not become ACTIVE in time.',
    remedy: "Look at the stream's status in Kinesis (creating, updating, a limit), and try again.",
  },
  TROUPE_ONCE_INTERRUPTED: {
    class: 'OnceInterruptedError',
    from: 'troupe',
    meaning: "An at-most-once `ctx.once` call was started by an earlier run of the turn that did not record its end (a crash, a timeout, or another host's run); it is not run again, and whether it finished is unknown.",
    remedy: 'Catch it in the turn and find out from the outside system (by an idempotency key such as the message id), or use the at-least-once default where running again is safe.',
  },
  TROUPE_ONCE_OTHER_TURN: {
    meaning: "A `ctx.once` record under the message's id and the call's name was written by another actor type's or another key's turn (a hand-made record on the stream that reused a message id); it is neither answered nor run over.",
    remedy: 'Find who wrote a record under that message id (only trusted writers may put records on the streams); the message is a dead letter, and its side effect did not run.',
  },
  TROUPE_ONCE_RESULT_LOST: {
    class: 'OnceResultLostError',
    from: 'troupe',
    meaning: "A `ctx.once` side effect ran in an earlier run of the turn and its result could not be recorded (not serialisable, or too large without an overflow store); it is not run again, and its result is unknown.",
    remedy: 'Return what can be recorded from the side effect; catch the error in the turn to go on without the result (a replayed letter gets it too).',
  },
  TROUPE_ONCE_TOO_LARGE: {
    meaning: "The result of a `ctx.once` side effect is too large to record (a DynamoDB item holds 400 KB) and no overflow store is set; the side effect ran, the message is a dead letter at once.",
    remedy: 'Return less from the side effect (large results belong in S3, with their key in the result), or give the host an overflow store (AwsSystem sets one).',
  },
  TROUPE_OUTBOX_NOT_SENT: {
    meaning: "Some of a turn's messages were not taken by Kinesis after the commit; the host logs it and its record is delivered again, which sends them then.",
    remedy: 'Nothing to do unless it repeats: then read the Kinesis error it names (throughput, permissions).',
  },
  TROUPE_OUTBOX_TOO_LARGE: {
    class: 'ItemTooLargeError',
    from: 'troupe',
    meaning: "The messages one turn sends come to more than DynamoDB's 400 KB item, and no store for overflow is set.",
    remedy: 'Give the host an overflow store (AwsSystem sets one on its table), or send less from one turn.',
  },
  TROUPE_OVERFLOW_MISSING: {
    meaning: "An instance's item refers to outbox entries or a fork's replies kept in the overflow store, and they are not there.",
    remedy: "Make sure nothing deletes or expires the overflow store's objects early (a lifecycle rule, a hand delete).",
  },
  TROUPE_PAYLOAD: {
    class: 'PayloadError',
    from: 'troupe/aws',
    meaning: 'A message body the claim check keeps out of line is gone, changed or unsafe; the message is a dead letter, never a turn with a wrong body.',
    remedy: "Check the payload store's retention and access; restore the object and replay the letter.",
  },
  TROUPE_PAYLOAD_INCOMPLETE: {
    meaning: 'A payload kept in the table is missing some of its chunks.',
    remedy: "Make sure nothing deletes troupe's items by hand; the turns that read it fail, are retried, then dead-lettered.",
  },
  TROUPE_PAYLOAD_STORE: {
    meaning: 'A call of the S3 payload store failed; the reason is in the message.',
    remedy: 'Check the bucket, its permissions and the network; the turn is retried.',
  },
  TROUPE_RECEIPT_TIMEOUT: {
    class: 'ReceiptTimeoutError',
    from: 'troupe',
    meaning: '`awaitReceipt` timed out before the message reached the statuses it waited for; the error names the last status.',
    remedy: "Raise `timeoutMs`, or look at the message's receipt and the actor's dead letters.",
  },
  TROUPE_RECEIPT_TOO_LARGE: {
    meaning: "A receipt entry with its reply is over DynamoDB's 400 KB item; nothing of that call was written.",
    remedy: 'Reply with less: large results belong in S3, with their key in the reply.',
  },
  TROUPE_RECORD_TOO_LARGE: {
    class: 'RecordTooLargeError',
    from: 'troupe/aws',
    meaning: 'A message is larger than a record of its stream may be; nothing was sent.',
    remedy: 'Keep messages small: put large payloads in S3 (or give the system a claim check) and send their keys.',
  },
  TROUPE_REPLAY_BUSY: {
    meaning: 'A replay on AWS found the instance with 64 replayed messages it has not read yet (each waits in its item as a note until it is read), and waited 30 seconds for it to read one.',
    remedy: "Let the instance's host catch up with its stream (is it running, or paused?), then replay the letter again; nothing was sent and the letter stays.",
  },
  TROUPE_REPLAY_UNDER_WAY: {
    class: 'ReplayUnderWayError',
    from: 'troupe',
    meaning: "Another replay holds the dead letter (on AWS): it is sending the letter's message, or stopped part-way and holds it until the time named.",
    remedy: 'Wait: the letter leaves the list once that replay sent its message; replay it again after the time named if it is still there.',
  },
  TROUPE_REPLY_TOO_LARGE: {
    meaning: "An ask's message was done, but its reply was too large to keep in its receipt.",
    remedy: 'Reply with less: large results belong in S3, with their key in the reply.',
  },
  TROUPE_RETRYABLE: {
    class: 'RetryableError',
    from: 'troupe',
    meaning: 'Thrown from `receive` to ask for a retry, no sooner than its `retryAfterMs`.',
    remedy: 'Throw it when a later attempt can succeed (a busy service, a rate limit).',
  },
  TROUPE_SEND_FAILED: {
    class: 'SendFailedError',
    from: 'troupe/aws',
    meaning: 'Kinesis did not take a message: retries ran out, or the error is one retrying cannot fix.',
    remedy: "Read Kinesis's error in `errorCode` (throughput, a missing stream, permissions).",
  },
  TROUPE_SEND_HELD_BACK: {
    class: 'HeldBackError',
    from: 'troupe/aws',
    meaning: 'A message was not sent because an earlier one with the same partition key failed: sending it would have broken per-key order.',
    remedy: 'Resend both, in order.',
  },
  TROUPE_STATE_FROZEN: {
    meaning: 'A part of `ctx.state` was frozen during a turn, which a failed turn could not undo.',
    remedy: 'Freeze a value before it enters the state, not after.',
  },
  TROUPE_STATE_MIGRATION_FAILED: {
    class: 'StateMigrationError',
    from: 'troupe',
    meaning: "A stored state of an older version could not be migrated: the actor's `migrate` (or a machine actor's `migrate` entry) threw or returned no state. The turn failed; the stored state is unchanged.",
    remedy: 'Fix `migrate` for the versions the error names, deploy, and replay the dead letter.',
  },
  TROUPE_STATE_TOO_LARGE: {
    class: 'ItemTooLargeError',
    from: 'troupe',
    meaning: "An instance's state is over DynamoDB's 400 KB item; nothing was written.",
    remedy: 'Keep less state: large blobs belong in S3, with their key in the state.',
  },
  TROUPE_STATE_VERSION_NEWER: {
    class: 'StateVersionError',
    from: 'troupe',
    meaning: 'A stored state was written by a newer `static version` of the actor than this code runs; it is neither run nor overwritten (on AWS the records wait for redelivery).',
    remedy: 'Deploy the newer version of the actor; in the embedded mode, replay the dead letter from a system that runs it.',
  },
  TROUPE_STATE_VERSION_UNREADABLE: {
    meaning: "A stored state's version (`sv` in the table) is not a positive whole number (a string, 0, negative, a fraction: written by another tool); the state is neither run, migrated nor overwritten (on AWS the records wait for redelivery).",
    remedy: 'Set `sv` to the version whose shape the stored state has, as a number (or remove it for version 1); the waiting records then run.',
  },
  TROUPE_STOPPED: {
    class: 'SystemStoppedError',
    from: 'troupe',
    meaning: 'The system is stopping or stopped, and takes no new messages.',
    remedy: 'Send before `stop()`, or to a running system.',
  },
  TROUPE_STORE_BUSY: {
    meaning: 'A pause, a resume or a replay lost its write to hosts committing the instance, too many times in a row.',
    remedy: 'Try again when the instance is less busy.',
  },
  TROUPE_STORE_CONFLICT: {
    class: 'StoreConflictError',
    from: 'troupe',
    meaning: 'A conditional store write lost to another writer; nothing was written.',
    remedy: "Reload and run again (troupe's hosts do); a custom StateStore throws it on a version mismatch.",
  },
  TROUPE_STORE_NO_TABLE: {
    meaning: 'The DynamoDB table does not exist, or did not become ACTIVE in time.',
    remedy: 'Create it (`createTable(client, name)`, or deploy), then start.',
  },
  TROUPE_STORE_UNAVAILABLE: {
    meaning: 'DynamoDB left keys unprocessed after every retry, or a receipt or a dead letter could not be written.',
    remedy: 'DynamoDB is throttling: raise its capacity (or use on-demand); the work is retried.',
  },
  TROUPE_TERMINAL: {
    class: 'TerminalError',
    from: 'troupe',
    meaning: 'Thrown from `receive` when retrying cannot help: the message is a dead letter at once.',
    remedy: 'Throw it for input no retry can fix; fix the cause and replay the letter if it should run.',
  },
  TROUPE_TIMERS_STUCK: {
    meaning: 'A timer is due and repeated tries fired nothing: the timer store is failing.',
    remedy: "Read the log for the timer store's errors, and fix the store.",
  },
  TROUPE_TIMER_TOO_LARGE: {
    class: 'ItemTooLargeError',
    from: 'troupe',
    meaning: "A timer with its message is over DynamoDB's 400 KB item; nothing was written.",
    remedy: 'Schedule a smaller message that points at the data.',
  },
  TROUPE_TURN_OVER: {
    meaning: 'An actor used `ctx` (to tell, schedule, change state) after its turn had ended.',
    remedy: 'Await the work inside `receive`; do not keep `ctx` for later.',
  },
  TROUPE_TURN_TIMEOUT: {
    class: 'TurnTimeoutError',
    from: 'troupe',
    meaning: "A turn ran past its policy's `attemptTimeoutMs`; it is retried like any failure, and its late result is ignored.",
    remedy: 'Make the turn faster, or raise `attemptTimeoutMs`.',
  },
  TROUPE_UNKNOWN_ACTOR: {
    class: 'UnknownActorError',
    from: 'troupe',
    meaning: '`tell` or `ask` named an actor type the system does not know; the message lists those it knows.',
    remedy: 'Give the actor to the system, or fix the type name.',
  },
  TROUPE_WAIT_LIMIT: {
    meaning: "A message that would wait in its instance's item (held while the key or its type is paused, or parked for a token, a slot or behind a retry) finds no room left there: what waits shares the item's 400 KB with its state. It is a dead letter, not applied, and the shard moves on.",
    remedy: 'Resume the key, or let its line move (a higher rate, a retry that succeeds), then replay the letters; pause a sender rather than a key that receives a flood.',
  },
  TROUPE_WAKE_UNFINISHED: {
    meaning: "On AWS, the messages parked in an item (for a throttle, a concurrency slot or a retry that waits long) did not all run at their wake-up (the run's time ran out, or its commit failed); the wake-up fires again.",
    remedy: "Nothing, if it passes; if it repeats, look at the log for the instance's error.",
  },
} as const satisfies Record<`TROUPE_${string}`, ErrorCodeInfo>

/** A code troupe raises: the `code` of a {@link TroupeError}, and the `[CODE]` that starts its message. */
export type ErrorCode = keyof typeof errorCodes
