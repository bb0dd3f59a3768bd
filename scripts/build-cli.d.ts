export declare const ROOT: string;
export declare const BUILD: string;
export declare const STAMP: string;
export declare const SOURCES: string[];
export declare function newestSource(): number;
export declare function isBuildFresh(): boolean;
export declare function buildCli(): Promise<void>;
