/** ecebot's words: languages, labels, item titles and times, for the cards and the CLI. */
export { findingSummary, remediationFix, remediationText } from './findings';
export { itemTitle } from './items';
export { langOf, type Lang, type Text } from './lang';
export { messages, stateWord, type ItemState, type Messages } from './messages';
export { formatTime } from './time';
