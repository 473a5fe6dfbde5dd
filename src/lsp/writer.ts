// How the server writes to the editor. vscode-jsonrpc's stream writer writes
// a message's header and its body apart, the body after the header's write
// has called back: two writes to the pipe, and the editor's reader woken for
// each. This one writes each message whole, in one write.
import { AbstractMessageWriter, type Message, type MessageWriter } from 'vscode-languageserver/node';

export class FramedWriter extends AbstractMessageWriter implements MessageWriter {
  private errors = 0;

  constructor(private readonly out: NodeJS.WritableStream) {
    super();
    out.on('error', (e: Error) => this.fireError(e));
    out.on('close', () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    // what vscode-jsonrpc's default encoder gives: the message as JSON, in UTF-8, after its length
    const json = JSON.stringify(msg);
    const length = Buffer.byteLength(json, 'utf8');
    const head = `Content-Length: ${length}\r\n\r\n`;
    const buf = Buffer.allocUnsafe(head.length + length);
    buf.write(head, 0, 'latin1');
    buf.write(json, head.length, 'utf8');
    return new Promise((resolve, reject) => {
      this.out.write(buf, (e?: Error | null) => {
        if (!e) return resolve();
        this.fireError(e, msg, ++this.errors);
        reject(e);
      });
    });
  }

  end(): void {
    this.out.end();
  }
}
