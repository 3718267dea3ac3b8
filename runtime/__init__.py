"""yaogc.runtime: channel, oblivious transfer, the two-party protocol and the CLI."""
