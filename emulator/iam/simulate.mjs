// Decides AWS requests with @cloud-copilot/iam-simulate, one JSON simulation per line on
// stdin, one JSON answer per line on stdout. A test-time tool of the emulator only:
// iam-simulate is AGPL-3.0, so it never ships in the Lambda asset or the CLI.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  let answer
  try {
    const response = await runSimulation(JSON.parse(line), {})
    if (response.resultType === 'error') {
      answer = { result: 'Error', errors: response.errors }
    } else {
      answer = { result: response.overallResult }
    }
  } catch (error) {
    answer = { result: 'Error', errors: { message: String(error) } }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
