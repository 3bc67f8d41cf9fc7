// The names a comment may @-mention to address the server, from its own GitHub login. A GitHub
// App's login is `<slug>[bot]`, but people type `@<slug>`; a token's login is the bot account's.

export function botMentions(login: string): string[] {
  if (login === '') return [];
  const bare = login.replace(/\[bot\]$/i, '');
  return bare === login || bare === '' ? [login] : [login, bare];
}
