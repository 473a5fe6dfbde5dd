// What the command line's image codecs (pngjs, jpeg-js) and PNG renderer
// (resvg) are in the page: names that throw when used. The page reads no
// image files and draws SVG; it decodes dropped images with the browser.
function missing(name: string): never {
  throw new Error(`${name} is not available in the browser (alexnetc playground)`);
}
export class PNG {
  constructor() {
    missing('pngjs');
  }
  static sync = { read: (): never => missing('pngjs'), write: (): never => missing('pngjs') };
}
export class Resvg {
  constructor() {
    missing('resvg');
  }
}
const jpeg = { decode: (): never => missing('jpeg-js'), encode: (): never => missing('jpeg-js') };
export default jpeg;
