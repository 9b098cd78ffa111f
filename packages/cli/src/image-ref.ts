/*
 * The container image reference grammar that registries and the kubelet accept:
 * [domain[:port]/]path[:tag][@digest], with lower-case path components.
 */
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);
/** Longest repository name a registry accepts. */
const MAX_NAME_LENGTH = 255;

/**
 * Checks an image reference such as `registry.example:5000/vm-dhcp/vm-dhcp:0.1.0`, so that a
 * typo fails at start with the flag named rather than as an agent pod stuck in
 * InvalidImageName. `flag` names the option in the error.
 */
export function checkImageReference(flag: string, text: string): void {
  const match = REFERENCE.exec(text);
  if (!match || match[1]!.length > MAX_NAME_LENGTH) {
    throw new Error(
      `${flag}=${JSON.stringify(text)}: not an image reference; expected ` +
        "[registry/]repository[:tag][@digest], e.g. registry.example/vm-dhcp:0.1.0",
    );
  }
}
