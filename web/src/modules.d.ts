/** specs/*.net, as [file name, text], sorted by name (web/build.mjs makes this module) */
declare module 'alexnetc:specs' {
  const specs: ReadonlyArray<readonly [file: string, text: string]>;
  export default specs;
}
