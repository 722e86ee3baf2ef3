// Vite's `?url` imports: a file copied into the build's assets, imported as its URL.
declare module "*?url" {
  const url: string;
  export default url;
}
