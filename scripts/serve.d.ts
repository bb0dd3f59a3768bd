export function resolveFile(dir: string, urlPath: string): string | undefined;
export function serve(opts: { dir: string; port?: number; host?: string }): Promise<{ url: string; close: () => Promise<void> }>;
