import { describe, expect, it } from 'vitest'
import { fromSlackText, toMrkdwn } from '../../../adapters/slack/mrkdwn.ts'

describe('toMrkdwn', () => {
  it('turns markdown into Slack mrkdwn', () => {
    expect(toMrkdwn('# Ideas')).toBe('*Ideas*')
    expect(toMrkdwn('**bold** and *italic* and ~~gone~~')).toBe('*bold* and _italic_ and ~gone~')
    expect(toMrkdwn('- one\n* two')).toBe('• one\n• two')
    expect(toMrkdwn('see [docs](https://example.com/a?b=1&c=2)')).toBe(
      'see <https://example.com/a?b=1&amp;c=2|docs>',
    )
    expect(toMrkdwn('```\nif (a < b) {}\n```')).toBe('```\nif (a &lt; b) {}\n```')
    expect(toMrkdwn('use `a<b` here')).toBe('use `a&lt;b` here')
  })

  it('escapes anything that could ping or inject markup', () => {
    const hostile = 'Hey <!channel> and <!here|here> and <!everyone> and <@U123> & <https://evil.test|click>'
    const out = toMrkdwn(hostile)
    expect(out).not.toMatch(/<[!@#]/)
    expect(out).not.toContain('<https://evil')
    expect(out).toBe(
      'Hey &lt;!channel&gt; and &lt;!here|here&gt; and &lt;!everyone&gt; and &lt;@U123&gt; &amp; &lt;https://evil.test|click&gt;',
    )
  })

  it('does not build links from non-http URLs or let labels break out', () => {
    expect(toMrkdwn('[x](javascript:alert(1))')).toBe('[x](javascript:alert(1))')
    expect(toMrkdwn('[a|<!channel>](https://ok.test)')).toBe('<https://ok.test|a/&lt;!channel&gt;>')
  })
  it('shows the real target of a link whose text names another site', () => {
    expect(toMrkdwn('[https://bank.example/login](https://evil.test/x)')).toBe('<https://evil.test/x>')
    expect(toMrkdwn('Sign in: [bank.example](https://bank.example.evil.test/)')).toBe(
      'Sign in: <https://bank.example.evil.test/>',
    )
    expect(toMrkdwn('[example.com](https://www.example.com/a)')).toBe(
      '<https://www.example.com/a|example.com>',
    )
  })
})

describe('fromSlackText', () => {
  it('decodes what Slack encoded, once', () => {
    expect(fromSlackText('R&amp;D &lt;b&gt; *x*')).toBe('R&D <b> *x*')
    expect(fromSlackText('a &amp;lt; b')).toBe('a &lt; b')
    expect(fromSlackText('see <https://x.test|x.test> and <https://y.test>')).toBe(
      'see x.test and https://y.test',
    )
    expect(fromSlackText('<@U1> in <#C1|general> <!here>')).toBe('@U1 in #general @here')
  })
})
