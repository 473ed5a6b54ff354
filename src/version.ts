/** The one place the sfs version lives; `sfs --version` and the release workflow read it. */
export const VERSION = "0.1.0";
