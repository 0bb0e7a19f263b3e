/**
 * A Teams-like host config for measuring cards: the spacing, padding, font sizes and container
 * styles of Microsoft's sample host config for Teams' light theme
 * (github.com/microsoft/AdaptiveCards, samples/HostConfig/microsoft-teams-light.json). Only the
 * values that change a card's height or its colours are taken; the rest are the renderer's
 * defaults. Segoe UI is not on a Linux machine, so Chromium draws a wider fallback font: the
 * heights measured with it are, if anything, taller than in Teams.
 */

const colours = {
  default: { default: '#252424', subtle: '#bf252424' },
  dark: { default: '#252424', subtle: '#bf252424' },
  light: { default: '#ffffff', subtle: '#fff3f2f1' },
  accent: { default: '#6264a7', subtle: '#8b8cc7' },
  good: { default: '#92c353', subtle: '#e592c353' },
  // Pale on white: why a warning needs its container style, not only a coloured mark.
  warning: { default: '#f8d22a', subtle: '#e5f8d22a' },
  attention: { default: '#c4314b', subtle: '#e5c4314b' },
};

const style = (backgroundColor: string) => ({ backgroundColor, foregroundColors: colours });

const fonts = { small: 12, default: 14, medium: 14, large: 18, extraLarge: 24 };

/** The host config object handed to `new AdaptiveCards.HostConfig(…)`. */
export const TEAMS_HOST_CONFIG = {
  supportsInteractivity: true,
  spacing: { small: 8, default: 12, medium: 16, large: 20, extraLarge: 24, padding: 16 },
  separator: { lineThickness: 1, lineColor: '#EEEEEE' },
  fontTypes: {
    default: {
      fontFamily: "'Segoe UI', Tahoma, Geneva, Verdana, sans-serif",
      fontSizes: fonts,
      fontWeights: { lighter: 200, default: 400, bolder: 600 },
    },
    monospace: {
      fontFamily: "'Courier New', Courier, monospace",
      fontSizes: fonts,
      fontWeights: { lighter: 200, default: 400, bolder: 600 },
    },
  },
  containerStyles: {
    default: style('#ffffff'),
    emphasis: style('#f9f8f7'),
    accent: style('#C7DEF9'),
    good: style('#CCFFCC'),
    attention: style('#FFC5B2'),
    warning: style('#FFE2B2'),
  },
  actions: {
    maxActions: 6,
    spacing: 'Default',
    buttonSpacing: 8,
    actionsOrientation: 'Horizontal',
    actionAlignment: 'Left',
  },
  adaptiveCard: { allowCustomStyle: false },
};
