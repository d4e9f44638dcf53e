// Text from hosts and playbooks shown on a terminal: control characters become visible escapes, so remote output
// or a hostile value cannot move the cursor, retitle the window or hide lines. The JSON report keeps the raw text.

// C0 controls but tab and newline, DEL, and the C1 controls (U+0080–U+009F, which some terminals obey as ESC [).
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `\x1b[2J` stays readable as the characters `\x1b[2J` instead of clearing the screen. */
export function terminalSafe(text: string): string {
  return text.replace(controls, (c) => (c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
