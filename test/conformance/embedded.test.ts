// The conformance suite on the embedded mode: the same cases the AWS mode runs.
import t from 'tap'
import { embeddedMode } from '../fixtures/conformance/embedded-mode.js'
import { conformance } from '../fixtures/conformance/index.js'

conformance(t, embeddedMode)
