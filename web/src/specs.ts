// The specifications shipped with alexnetc (specs/), one click away; LeNet-5
// first, the page's starting text.
import shipped from 'alexnetc:specs';

const FIRST = 'lenet5.net';

export const SPECS: ReadonlyArray<readonly [file: string, text: string]> = [...shipped.filter(([f]) => f === FIRST), ...shipped.filter(([f]) => f !== FIRST)];
