//! HTML mail to readable text: paragraphs, line breaks, lists and links kept; styles, scripts
//! and comments dropped; entities decoded. Where a mail client's quote container begins (Gmail,
//! Outlook desktop/web/iOS, Apple Mail, Thunderbird, Yahoo) a [`QUOTE_START`] line is written, so
//! answer extraction cuts there.
//!
//! A small tolerant tokenizer, not a full HTML parser: mail HTML is rarely well-formed, and this
//! never fails, whatever the input.

use super::reply::QUOTE_START;

/// Deepest list nesting shown by indentation.
const MAX_INDENT: usize = 6;

/// Converts an HTML body to text. Linear in the input, and the text is at most a small
/// constant times its size, whatever the nesting.
pub fn to_text(html: &str) -> String {
    let mut out = Output::default();
    let mut rest = html;
    // Elements whose content is not text: <head>, <style>, <script>, <title>.
    let mut skip_until: Option<&'static str> = None;
    let mut lists: Vec<Option<u32>> = Vec::new();
    let mut link: Option<(String, usize)> = None;
    let mut pre = 0usize;
    let mut quote_marked = false;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skip_until.is_none() {
                out.text(&decode_entities(rest), pre > 0);
            }
            break;
        };
        if lt > 0 && skip_until.is_none() {
            out.text(&decode_entities(&rest[..lt]), pre > 0);
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // No tag closes after here, so the rest is text: taking one '<' at a time would
            // search to the end again for each of them.
            if skip_until.is_none() {
                out.text(&decode_entities(rest), pre > 0);
            }
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(until) = skip_until {
            if closing && name == until {
                skip_until = None;
            }
            continue;
        }
        match (name.as_str(), closing) {
            ("head" | "style" | "script" | "title", false) => {
                skip_until = Some(match name.as_str() {
                    "head" => "head",
                    "style" => "style",
                    "script" => "script",
                    _ => "title",
                });
            }
            ("br", _) => out.line_break(),
            ("p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table", _) => out.paragraph(),
            ("div" | "tr" | "section" | "article" | "header" | "footer" | "center", _) => {
                out.newline()
            }
            ("blockquote", _) => {
                if !closing && !quote_marked && is_quote_container(tag) {
                    quote_marked = true;
                    out.paragraph();
                    out.raw_line(QUOTE_START);
                }
                out.paragraph();
            }
            ("td" | "th", false) => out.text(" ", false),
            ("hr", _) => {
                out.newline();
                out.raw_line("---");
            }
            ("pre", false) => {
                out.paragraph();
                pre += 1;
            }
            ("pre", true) => {
                pre = pre.saturating_sub(1);
                out.paragraph();
            }
            ("ul" | "ol", false) => {
                // A list is a block of its own; a nested one just starts a line.
                if lists.is_empty() {
                    out.paragraph();
                } else {
                    out.newline();
                }
                lists.push((name == "ol").then_some(1));
            }
            ("ul" | "ol", true) => {
                lists.pop();
                if lists.is_empty() {
                    out.paragraph();
                } else {
                    out.newline();
                }
            }
            ("li", false) => {
                out.newline();
                // Indentation shows nesting a reader can follow; past that it would only
                // multiply the text (items × depth).
                let depth = lists.len().saturating_sub(1).min(MAX_INDENT);
                let bullet = match lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "- ".into(),
                };
                out.text(&format!("{}{bullet}", "  ".repeat(depth)), true);
            }
            ("a", false) => {
                link = attribute(tag, "href").map(|href| (href, out.text_len()));
            }
            ("a", true) => {
                if let Some((href, start)) = link.take() {
                    let label = out.since(start);
                    let shown = href.trim_start_matches("mailto:");
                    if (href.starts_with("http") || href.starts_with("mailto:"))
                        && !label.contains(shown)
                        && !label.trim().is_empty()
                    {
                        out.text(&format!(" ({shown})"), false);
                    }
                }
            }
            ("img", _) => {
                if let Some(alt) = attribute(tag, "alt").filter(|a| !a.trim().is_empty()) {
                    out.text(&format!("[{alt}]"), false);
                }
            }
            _ => {}
        }
        if !closing && !quote_marked && name == "div" && is_quote_container(tag) {
            quote_marked = true;
            out.paragraph();
            out.raw_line(QUOTE_START);
        }
    }
    out.finish()
}

/// Whether an opening tag is a mail client's container for the quoted message.
fn is_quote_container(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let class = attribute(&lower, "class").unwrap_or_default();
    let id = attribute(&lower, "id").unwrap_or_default();
    class.split_whitespace().any(|c| {
        matches!(
            c,
            "gmail_quote"
                | "gmail_quote_container"
                | "yahoo_quoted"
                | "moz-cite-prefix"
                | "protonmail_quote"
        )
    }) || matches!(
        id.as_str(),
        "divrplyfwdmsg"
            | "x_divrplyfwdmsg"
            | "appendonsend"
            | "x_appendonsend"
            | "mail-editor-reference-message-container"
    ) || (lower.starts_with("blockquote") && attribute(&lower, "type").as_deref() == Some("cite"))
}

/// The value of an attribute in an opening tag, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(name) {
        let at = from + pos;
        from = at + name.len();
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(value));
    }
    None
}

/// Decodes the entities mail HTML uses: numeric ones and the common named ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
            .map(|e| e + 1);
        let (entity, after) = match end {
            Some(e) if rest[e..].starts_with(';') => (&rest[1..e], &rest[e + 1..]),
            _ => ("", rest),
        };
        let decoded = if let Some(num) = entity
            .strip_prefix("#x")
            .or_else(|| entity.strip_prefix("#X"))
        {
            u32::from_str_radix(num, 16).ok().and_then(char::from_u32)
        } else if let Some(num) = entity.strip_prefix('#') {
            num.parse().ok().and_then(char::from_u32)
        } else {
            named_entity(entity)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = after;
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "auml" => 'ä',
        "Auml" => 'Ä',
        "ouml" => 'ö',
        "Ouml" => 'Ö',
        "aring" => 'å',
        "Aring" => 'Å',
        "uuml" => 'ü',
        "Uuml" => 'Ü',
        "otilde" => 'õ',
        "Otilde" => 'Õ',
        "scaron" => 'š',
        "Scaron" => 'Š',
        "zcaron" => 'ž',
        "Zcaron" => 'Ž',
        "eacute" => 'é',
        "Eacute" => 'É',
        "egrave" => 'è',
        "szlig" => 'ß',
        "euro" => '€',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "shy" => '\u{AD}',
        "zwnj" => '\u{200C}',
        _ => return None,
    })
}

/// Text being written, with HTML's whitespace rules: runs of spaces collapse, and block
/// boundaries become at most one blank line.
#[derive(Default)]
struct Output {
    text: String,
    /// Newlines at the end of `text` that were asked for (0, 1 or 2).
    pending: usize,
}

impl Output {
    fn text(&mut self, s: &str, preformatted: bool) {
        if preformatted {
            self.flush();
            self.text.push_str(s);
            return;
        }
        for (i, word) in s
            .split(|c: char| c.is_whitespace() && c != '\u{A0}')
            .enumerate()
        {
            if i > 0
                && !self.text.is_empty()
                && !self.text.ends_with([' ', '\n'])
                && self.pending == 0
            {
                self.text.push(' ');
            }
            if !word.is_empty() {
                self.flush();
                self.text.push_str(&word.replace('\u{A0}', " "));
            }
        }
    }

    fn flush(&mut self) {
        if self.pending > 0 && !self.text.is_empty() {
            while self.text.ends_with(' ') {
                self.text.pop();
            }
            for _ in 0..self.pending {
                self.text.push('\n');
            }
        }
        self.pending = 0;
    }

    /// `<br>`: ends the line; a second one in a row leaves a blank line.
    fn line_break(&mut self) {
        self.pending = (self.pending + 1).min(2);
    }

    fn newline(&mut self) {
        self.pending = self.pending.max(1);
    }

    fn paragraph(&mut self) {
        self.pending = 2;
    }

    fn raw_line(&mut self, line: &str) {
        self.newline();
        self.flush();
        self.text.push_str(line);
        self.pending = 1;
    }

    fn text_len(&self) -> usize {
        self.text.len()
    }

    fn since(&self, start: usize) -> String {
        self.text.get(start..).unwrap_or("").to_owned()
    }

    fn finish(self) -> String {
        let lines: Vec<&str> = self.text.lines().map(str::trim_end).collect();
        let mut out = lines.join("\n").trim().to_owned();
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_and_links_survive() {
        let html = "<html><head><style>p{color:red}</style><title>x</title></head><body>\
            <p>Hei&nbsp;Matti,</p><p>korjasimme  laskun:</p>\
            <ul><li>ensimmäinen</li><li>toinen</li></ul>\
            <ol><li>yksi</li><li>kaksi</li></ol>\
            <p>Lue <a href=\"https://elisa.example/ohje\">ohje</a> tai <a href=\"https://x.example\">https://x.example</a>.<br>Kiitos!</p>\
            <!-- comment --><script>alert(1)</script></body></html>";
        assert_eq!(
            to_text(html),
            "Hei Matti,\n\nkorjasimme laskun:\n\n- ensimmäinen\n- toinen\n\n1. yksi\n2. kaksi\n\nLue ohje (https://elisa.example/ohje) tai https://x.example.\nKiitos!\n"
        );
    }

    #[test]
    fn entities_and_finnish_letters_are_decoded() {
        assert_eq!(
            decode_entities("P&auml;&auml;t&ouml;s &amp; &#228;&#xE4; &euro; &bogus; a&b"),
            "Päätös & ää € &bogus; a&b"
        );
    }

    #[test]
    fn client_quote_containers_are_marked() {
        for quote in [
            "<div class=\"gmail_quote\"><div>ma 23.11. kirjoitti:</div><blockquote>vanha</blockquote></div>",
            "<div id=\"divRplyFwdMsg\"><b>Lähettäjä:</b> x</div><div>vanha</div>",
            "<blockquote type=\"cite\">vanha</blockquote>",
            "<div class=\"moz-cite-prefix\">Matti kirjoitti:</div><blockquote type=\"cite\">vanha</blockquote>",
        ] {
            let text = to_text(&format!("<div>Uusi vastaus</div>{quote}"));
            assert!(
                text.starts_with(&format!("Uusi vastaus\n\n{QUOTE_START}\n")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn broken_html_never_fails() {
        for html in [
            "<",
            "<<a",
            "<a href=",
            "&#99999999;",
            "<p>open",
            "</div></div>x",
            "<style>never closed",
        ] {
            let _ = to_text(html);
        }
    }

    #[test]
    fn deep_lists_are_indented_only_so_far() {
        let html = format!("{}{}", "<ul>".repeat(20_000), "<li>x".repeat(20_000));
        let text = to_text(&html);
        assert!(text.len() < 2 * html.len(), "{} bytes out", text.len());
        assert!(text.lines().all(|l| l.len() <= 2 * MAX_INDENT + 3));
        let nested = to_text("<ul><li>a<ul><li>b</li></ul></li></ul>");
        assert_eq!(nested, "- a\n  - b\n");
    }

    #[test]
    fn lone_angle_brackets_are_text_and_cost_one_pass() {
        assert_eq!(to_text("a < b &amp; <c"), "a < b & <c\n");
        // Each '<' used to search to the end for a '>': 2 MB took hours.
        let html = "<".repeat(2 << 20);
        assert_eq!(to_text(&html).len(), html.len() + 1);
    }
}
