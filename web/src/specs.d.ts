declare module '*.net' {
  const text: string;
  export default text;
}
