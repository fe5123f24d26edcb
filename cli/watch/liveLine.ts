/**
 * A status line that changes: on a terminal, one line rewritten in place; elsewhere, a plain line each time
 * what it says changes (its key), so that CI logs stay readable.
 */
export class LiveLine {
    private lastKey: string | undefined;
    private drawn = false;

    constructor(private readonly out: NodeJS.WriteStream) {}

    get live(): boolean {
        return this.out.isTTY === true;
    }

    show(text: string, key: string): void {
        if (this.live) {
            const width = Math.max(20, (this.out.columns || 80) - 1);
            const shown = text.length > width ? `${text.slice(0, width - 1)}…` : text;
            this.out.write(`\r\x1b[2K${shown}`);
            this.drawn = true;
        } else if (key !== this.lastKey) {
            this.out.write(`${text}\n`);
        }
        this.lastKey = key;
    }

    /** Leaves the cursor on a fresh line. */
    end(): void {
        if (this.live && this.drawn) this.out.write("\n");
        this.drawn = false;
    }
}
