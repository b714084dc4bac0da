// Errors that are the user's to fix (a bad flag, a bad host name, a secret file that
// cannot be read): one line on stderr and exit 2, never a stack trace. Shared by the
// commands and the agent.

export class UsageError extends Error {
  constructor(message: string, readonly fix?: string) {
    super(message);
  }
}
