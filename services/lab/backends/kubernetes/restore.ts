// What a run changed on the release (scenario, peers' flags, replicas), put back newest first when
// it ends, whatever way it ends; an undo that fails says how to finish it by hand.
export class Restore {
  private readonly undos: Array<{ what: string; undo: () => Promise<unknown> }> = [];

  /** Remembers how to undo a change, described for the log. */
  push(what: string, undo: () => Promise<unknown>): void {
    this.undos.push({ what, undo });
  }

  async run(log: (l: string) => void): Promise<void> {
    for (const { what, undo } of this.undos.splice(0).reverse()) {
      try {
        await undo();
      } catch (e) {
        log(
          `kubernetes: could not restore ${what} (${(e as Error).message}); \`helm upgrade --reuse-values\` puts it back`,
        );
      }
    }
  }
}
