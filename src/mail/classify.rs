//! Who wrote a message: a person, an auto-responder, or a mail system reporting a failure.
//!
//! Automatic mail is never published as an answer, relayed or answered (RFC 3834); telling it
//! apart is what keeps the gateway out of mail loops.

use std::sync::LazyLock;

use regex::Regex;

use super::envelope::Envelope;
use super::parse::ParsedMail;

/// The kind of writer behind a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Written by a person.
    Human,
    /// An out-of-office notice, a "we received your message" acknowledgement or similar.
    AutoReply,
    /// A delivery status notification: the mail we sent did not arrive.
    Bounce,
}

impl Class {
    /// The name stored with the message.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Human => "human",
            Class::AutoReply => "auto",
            Class::Bounce => "bounce",
        }
    }
}

/// Subject openings that auto-responders use, in the languages mail clients ship: Outlook's
/// "Automatic reply:" and the out-of-office words people put in their own.
const AUTO_SUBJECTS: &[&str] = &[
    // fi
    "automaattinen vastaus",
    "poissa toimistosta",
    "lomavastaaja",
    // en
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "auto response",
    "autoresponse",
    "away from the office",
    // et
    "automaatne vastus",
    "kontorist eemal",
    // sv
    "frånvarande",
    "automatiskt svar",
    // de
    "abwesenheitsnotiz",
    "automatische antwort",
    "nicht im büro",
    // fr
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "absent du bureau",
    // nl
    "automatisch antwoord",
    // da, nb
    "automatisk svar",
    "autosvar",
    "ikke på kontoret",
    // ru
    "автоматический ответ",
    "автоответ",
    "нет на месте",
    "вне офиса",
    // es
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "fuera de oficina",
    // it
    "risposta automatica",
    "fuori sede",
    "fuori ufficio",
    // pl
    "odpowiedź automatyczna",
    "automatyczna odpowiedź",
    "poza biurem",
    // pt
    "resposta automática",
    "resposta automatica",
    "ausente do escritório",
    "fora do escritório",
];

/// Subject openings a person chooses for an out-of-office reply ("Lomalla: …"): a consumer may
/// open feedback so too, so only a company's reply is read for them.
const AWAY_SUBJECTS: &[&str] = &[
    "lomalla",
    "poissaolo",
    "poissa",
    "frånvaro",
    "ledig",
    "abwesend",
    "afwezig",
    "niet aanwezig",
    "fraværende",
    "fravær",
    "nieobecność",
    "ausente",
    "assente",
    "absent",
    "away",
    "on leave",
    "on vacation",
];

/// What a company's reply says of itself by its subject alone: a helpdesk's acknowledgement
/// ("[Request received]", "Olemme vastaanottaneet viestisi [#123]"), an away notice ("Lomalla:
/// …"), or a subject an auto-responder appended to. The subject of a person's reply is ours
/// ("Re: Palaute: <the writer's title>"), so only its opening and its end are read: the title
/// in between is the consumer's words.
pub fn company_subject(subject: &str) -> Said {
    let subject = subject.to_lowercase();
    let subject = without_reply_prefixes(&subject);
    let opens_away = AWAY_SUBJECTS.iter().any(|w| {
        subject
            .strip_prefix(w)
            .is_some_and(|rest| rest.trim_start().starts_with([':', '-', '–']))
    });
    if ACKNOWLEDGEMENT_SUBJECTS
        .iter()
        .any(|s| subject.starts_with(s))
        || AUTO_SUBJECT_ENDINGS
            .iter()
            .any(|s| subject.trim_end().ends_with(s))
        || opens_away
    {
        Said::Automatic
    } else {
        Said::Answer
    }
}

/// Subject endings that auto-responders append: "Palaute: Lasku [Automaattinen vastaus]".
const AUTO_SUBJECT_ENDINGS: &[&str] = &[
    "[automaattinen vastaus]",
    "(automaattinen vastaus)",
    "[automatiskt svar]",
    "(automatiskt svar)",
    "[automatic reply]",
    "(automatic reply)",
    "[auto-reply]",
    "[autoreply]",
];

/// Reply prefixes in the languages of Outlook and other clients, written before an automatic
/// subject ("SV: Automatiskt svar: …") or after it.
const REPLY_PREFIXES: &[&str] = &[
    "re",
    "aw",
    "sv",
    "vs",
    "vl",
    "ynt",
    "odp",
    "res",
    "rif",
    "r",
    "antw",
    "antwort",
    "ответ",
    "отв",
    "fw",
    "fwd",
    "wg",
    "tr",
    "vb",
    "doorst",
    "i",
    "enc",
    "rv",
];

/// Subjects of helpdesk acknowledgements ("we received your request #123"): the company's
/// system saying it got the mail, which counts as acknowledged, not answered.
const ACKNOWLEDGEMENT_SUBJECTS: &[&str] = &[
    "[request received]",
    "olemme vastaanottaneet",
    "viestisi on vastaanotettu",
    "palautteesi on vastaanotettu",
    "yhteydenottosi on vastaanotettu",
    "pyyntösi on vastaanotettu",
    "tikettisi on luotu",
    "we have received your",
    "we've received your",
    "we received your",
    "request received",
    "ticket received",
    "ticket has been created",
    "request has been received",
    "your request has been",
    "thank you for contacting",
    "vi har mottagit",
    "ditt ärende har registrerats",
    "tack för ditt meddelande",
    "oleme kätte saanud",
    "teie pöördumine on registreeritud",
    "täname pöördumise eest",
];

/// Longest answer that can be a helpdesk's acknowledgement: theirs are a few sentences, with
/// a link and a ticket number.
const ACKNOWLEDGEMENT_TEXT: usize = 1_200;

/// A sentence that says the writer's message arrived, or a ticket was opened for it. It names
/// the message ("your request", "viestisi"), so a real answer that says "a credit note has been
/// created" is not taken for one.
static RECEIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(
            we('ve|\shave)?\s(successfully\s)?received\syour\s(support\s)?(request|message|e-?mail|mail|ticket|case|enquiry|inquiry|query|feedback|complaint)
          | your\s(request|message|e-?mail|ticket|case|enquiry|inquiry|query|feedback|complaint)[^.\n]{0,60}(has\sbeen|was|is\sbeing)\s(received|logged|created|opened|registered)
          | (ticket|case|request|incident)\s[^.\n]{0,30}(has\sbeen|was)\s(created|opened|logged|received)
          | opened\son\syour\sbehalf
          | olemme\svastaanottaneet\s(viestisi|palautteesi|yhteydenottosi|pyyntösi|kysymyksesi|sähköpostisi|viestinne|palautteenne|yhteydenottonne)
          | (viestisi|palautteesi|yhteydenottosi|pyyntösi|kysymyksesi|tikettisi|viestinne|palautteenne|yhteydenottonne)\s(on|ovat)\s(vastaanotettu|kirjattu|rekisteröity|luotu|saapunut)
          | (tiketti|tukipyyntö|palvelupyyntö)\s[^.\n]{0,30}on\s(luotu|avattu|kirjattu)
          | vi\shar\s(tagit\semot|mottagit)\s(ditt|din|er|ert)
          | (ditt|ert)\s(ärende|meddelande|mejl|mail)\s(har\s)?(registrerats|mottagits|skapats|tagits\semot)
          | oleme\s((teie|sinu)\s\S+\s)?kätte\ssaanud | (teie|sinu)\s(pöördumine|kiri|päring)\s(on\s)?registreeritud
          | (haben|habe)\s(ihre|deine|ihr|dein)\s\S+\s(erhalten|bekommen)
          | (ihre|deine)\s(anfrage|nachricht|e-mail|mail)\s(ist|wurde)\s[^.\n]{0,20}(eingegangen|erhalten|registriert|erfasst)
          | (ticket|vorgang)\s[^.\n]{0,30}wurde\s(erstellt|eröffnet|angelegt)
          | nous\savons\s(bien\s)?reçu\svotre
          | votre\s(demande|message|e-?mail|ticket|dossier)[^.\n]{0,40}a\s(bien\s)?été\s(reçue?|créée?|enregistrée?|ouverte?)
          | (hebben|heb)\s(uw|je|jouw)\s\S+(\sgoed)?\sontvangen
          | (uw|je|jouw)\s(verzoek|bericht|vraag|ticket|melding)[^.\n]{0,40}is\s(ontvangen|aangemaakt|geregistreerd)
          | modtaget\s(din|jeres)\s | (din|jeres)\s(henvendelse|besked|sag|mail)\s(er|blev)\s(modtaget|oprettet|registreret)
          | mottatt\s(din|deres|henvendelsen) | (din|deres)\s(henvendelse|melding|sak|e-post)\s(er|ble)\s(mottatt|opprettet|registrert)
          | hemos\srecibido\s(tu|su)
          | (tu|su)\s(solicitud|mensaje|consulta|caso|ticket)[^.\n]{0,40}ha\ssido\s(recibid|cread|registrad|abiert)[oa]
          | abbiamo\sricevuto\s(la\s|il\s)?(tua|sua|vostra|tuo|suo)
          | (tua|sua|tuo|suo)\s(richiesta|messaggio|ticket|segnalazione)[^.\n]{0,40}è\sstat[oa]\s(ricevut|creat|registrat|apert)[oa]
          | otrzymaliśmy\s(twoj|pana|pani|państwa)
          | zgłoszenie[^.\n]{0,40}zostało\s(utworzone|zarejestrowane|przyjęte)
          | recebemos\s(a\s|o\s)?(sua|seu|tua|teu)
          | (sua|seu)\s(solicitação|pedido|mensagem|chamado|ticket)[^.\n]{0,40}foi\s(recebid|criad|registrad|abert)[oa]
          | получили\sваш
          | ваш[аеи]?\s(обращение|заявка|запрос|сообщение|письмо)[^.\n]{0,40}(зарегистрирован|создан|получен|принят)
        )",
    )
    .expect("receipt regex")
});

/// A ticket's number or key: `#123456`, `INC0010023`, `SUP-42`, Salesforce's `ref:_…`, or a
/// ticket word before a number.
static TICKET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
            \#\s?\d{3,}
          | (?-u:\b)(INC|CS|RITM|REQ|SR|CASE|TKT|TASK)\d{4,}(?-u:\b)
          | ref:_[0-9A-Za-z]
          | (?i:(ticket|case|request|incident|tiketti|tapaus|pyyntö|ärende|sag|sak|vorgang|anfrage|dossier|demande|caso|richiesta|zgłoszeni|chamado|заявк|обращени)\w*[\s:\#-]*((nro|no\.?|nr\.?|number|numero|nummer|número|id|on|är|is|ist|est|es|è|é|er|jest)[\s:\#-]*){0,2}\d{3,})
        ",
    )
    .expect("ticket regex")
});

/// A promise of a later answer: what an acknowledgement says instead of answering.
static LATER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(
            get\sback\sto\syou | as\ssoon\sas\spossible | reviewed\sby | will\s(respond|reply|contact|be\sin\stouch)
          | personal\sresponse | palaamme | otamme\syhteyttä | vastaamme | mahdollisimman\spian
          | återkommer | snarast | hör\sav\soss | melden\suns | so\sschnell\swie\smöglich | schnellstmöglich
          | reviendrons | plus\sbrefs\sdélais | contact\s(met\su|opnemen) | zo\sspoedig | zo\ssnel\smogelijk
          | vender\stilbage | kontakter\sdig | tar\skontakt | så\sfort\ssom\smulig | snarest
          | nos\spondremos\sen\scontacto | lo\santes\sposible | ti\sricontatteremo | la\sricontatteremo
          | al\spiù\spresto | skontaktujemy | najszybciej | odpowiemy | entraremos\sem\scontato
          | o\smais\sbreve | retornaremos | свяжемся | в\sближайшее\sвремя | võtame\sühendust
          | esimesel\svõimalusel | vastame
        )",
    )
    .expect("later regex")
});

/// A text that says it was written by no one: "this is an automatic reply".
static SELF_DECLARED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(
            tämä\son\sautomaattinen\s(vastaus|viesti|kuittaus|ilmoitus)
          | detta\sär\sett\sautomatiskt\s(svar|meddelande|genererat)
          | see\son\sautomaatne\s(vastus|teade|kiri)
          | this\sis\san?\s(automated|automatic|auto-generated|automatically\sgenerated)\s(response|reply|message|e-?mail|notification|acknowledgement)
          | dies\sist\seine\sautomatische\s(antwort|nachricht|e-mail)
          | ceci\sest\sun\s(message|e-mail|courriel)\sautomatique | ceci\sest\sune\sréponse\sautomatique
          | dit\sis\seen\sautomatisch\s(antwoord|bericht|gegenereerd)
          | dette\ser\set\sautomatisk\s(svar|genereret|generert)
          | esta\ses\suna\srespuesta\sautomática | este\ses\sun\smensaje\sautomático
          | questa\sè\suna\srisposta\sautomatica | questo\sè\sun\smessaggio\sautomatico
          | to\sjest\s(automatyczna\sodpowiedź|wiadomość\sautomatyczna|odpowiedź\sautomatyczna)
          | esta\sé\suma\sresposta\sautomática | esta\sé\suma\smensagem\sautomática
          | это\sавтоматическ(ий\sответ|ое\sсообщение)
        )",
    )
    .expect("self-declared regex")
});

/// A text that says its writer is away.
static AWAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(
            olen\s(lomalla|poissa|vapaalla|virkavapaalla|sairauslomalla)
          | jag\sär\s(ledig|på\ssemester|borta|frånvarande|tjänstledig)
          | (i\sam|i'm|i\swill\sbe)\s(currently\s)?(out\sof\s(the\s)?office|on\s(annual\s|parental\s)?leave|on\svacation|on\sholiday|away\sfrom)
          | ich\sbin\s(derzeit\s|bis\s\S+\s)?(nicht\sim\sbüro|im\surlaub|abwesend)
          | je\ssuis\s(actuellement\s)?(absente?|en\scongé|en\svacances)
          | ik\sben\s(momenteel\s|tot\s\S+\s)?(afwezig|met\svakantie|niet\saanwezig)
          | jeg\ser\s(på\sferie|fraværende|ikke\spå\skontoret|bortrejst)
          | estoy\s(fuera\sde\sla\soficina|de\svacaciones|ausente)
          | sono\s(fuori\s(ufficio|sede)|in\sferie|assente)
          | jestem\s(poza\sbiurem|na\surlopie|nieobecn[ya])
          | estou\s(fora\sdo\sescritório|de\sférias|ausente)
          | я\s(в\sотпуске|отсутствую) | меня\sнет\sв\sофисе
          | olen\spuhkusel | viibin\spuhkusel
        )",
    )
    .expect("away regex")
});

/// Something done: what a real answer says and an acknowledgement does not.
static DONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(
            hyvit | palautamme | palautimme | palautettu | korjasimme | korjattu | korjaamme
          | peruimme | peruttu | perumme | tarkistimme | tarkistaneet | käsitelty | hoidettu
          | maksettu | lähetimme | poistimme
          | krediter | återbetal | betalat\stillbaka | betalar\stillbaka | rättat | korrigerat
          | makulerat | skickat
          | refund | credited | corrected | fixed | cancelled | canceled | reimburs
          | we\shave\s(checked|reviewed|processed|resolved|sent) | has\sbeen\s(processed|resolved|fixed|refunded)
          | erstatt | gutgeschrieben | korrigiert | storniert
          | rembours | corrigé | annulé
          | terugbetaal | gecorrigeerd | geannuleerd
          | tilbagebetal | rettet | annulleret | refundert
          | reembols | corregido | cancelado
          | rimbors | corretto | annullato
          | zwróc | skorygowan | anulowan
          | reembolsad | corrigid
          | вернули | вернём | возвращ | исправ | отменен
        )",
    )
    .expect("done regex")
});

/// What a company's reply, as extracted, says of itself. Only a company's mail is read so: a
/// consumer who quotes such a text is still writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// It says it is an automatic reply: whenever it comes, it is not an answer.
    Automatic,
    /// It says only that the message arrived (a helpdesk's acknowledgement: Zendesk, Freshdesk,
    /// ServiceNow, Salesforce, HubSpot, Jira Service Management, or a mailbox's own), or that its
    /// writer is away. Automatic when it comes at once, as the first reply; a person who writes
    /// so later is answering.
    Receipt,
    /// Anything else: an answer.
    Answer,
}

/// Reads a company's reply for what it says of itself (see [`Said`]).
pub fn company_text(text: &str) -> Said {
    if text.len() > ACKNOWLEDGEMENT_TEXT {
        return Said::Answer;
    }
    if SELF_DECLARED.is_match(text) {
        return Said::Automatic;
    }
    let receipt = RECEIPT.is_match(text) && (TICKET.is_match(text) || LATER.is_match(text));
    if (receipt || AWAY.is_match(text)) && !DONE.is_match(text) {
        Said::Receipt
    } else {
        Said::Answer
    }
}

/// Local parts and names that mail systems report failures from.
const BOUNCE_SENDERS: &[&str] = &[
    "mailer-daemon",
    "postmaster",
    "post_master",
    "mail delivery subsystem",
];

/// Subject words of delivery reports, in the languages of the corpora and our users.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "delivery status",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "delivery notification",
    "failure notice",
    "returned mail",
    "mail delivery",
    "could not be delivered",
    "not delivered",
    "non-delivery",
    "nondeliverable",
    "rejected",
    "delivery problem",
    "ei voitu toimittaa",
    "toimitus epäonnistui",
    "palautettu viesti",
    "kunde inte levereras",
    "olevererbart",
    "ei saanud kohale toimetada",
    "unzustellbar",
    "nicht zugestellt",
    "non remis",
    "メールエラー",
    "エラー",
];

/// Parts that only delivery and abuse reports carry.
const REPORT_PARTS: &[&str] = &[
    "message/delivery-status",
    "message/global-delivery-status",
    "message/feedback-report",
    "text/rfc822-headers",
];

/// Decides who wrote a message from its headers and envelope.
pub fn classify(mail: &ParsedMail, envelope: &Envelope) -> Class {
    let (from, from_name) = match &mail.from {
        Some(m) => (
            m.address.as_str(),
            m.name.as_deref().unwrap_or("").to_lowercase(),
        ),
        None => ("", String::new()),
    };
    let subject = mail.subject.to_lowercase();
    let null_sender = envelope.mail_from.is_empty();
    let from_mail_system = BOUNCE_SENDERS
        .iter()
        .any(|s| from.starts_with(&format!("{s}@")) || from_name.starts_with(s));
    if mail.content_type == "multipart/report"
        || mail
            .part_types
            .iter()
            .any(|t| REPORT_PARTS.contains(&t.as_str()))
        || from_mail_system
        || (null_sender
            && (BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s))
                || mail.part_types.iter().any(|t| t == "message/rfc822")))
        || (mail.text.contains("notificationType")
            && (mail.text.contains("Bounce") || mail.text.contains("Complaint")))
    {
        return Class::Bounce;
    }
    for (name, value) in &mail.auto_headers {
        let value = value.to_ascii_lowercase();
        let automatic = match name.as_str() {
            "auto-submitted" => value != "no",
            "x-autoreply" | "x-autorespond" => true,
            "precedence" | "x-precedence" => {
                matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply")
            }
            "list-id" | "list-unsubscribe" | "x-failed-recipients" | "feedback-id" => true,
            // Outlook puts this on human mail too: on its own it proves nothing.
            _ => false,
        };
        if automatic {
            return Class::AutoReply;
        }
    }
    if null_sender {
        return Class::AutoReply;
    }
    if is_no_reply(from) {
        return Class::AutoReply;
    }
    let subject = without_reply_prefixes(&subject);
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Class::AutoReply;
    }
    Class::Human
}

/// The subject after any reply and forward prefixes ("SV: Re: …").
fn without_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim_start();
    // A few rounds: a subject of a thousand "re:" is no one's.
    for _ in 0..8 {
        let Some((head, tail)) = rest.split_once([':', '：']) else {
            break;
        };
        let word = head
            .trim()
            .trim_end_matches(|c: char| "[]()0123456789".contains(c));
        if !REPLY_PREFIXES.contains(&word) {
            break;
        }
        rest = tail.trim_start();
    }
    rest
}

/// Local parts of mailboxes no one reads, in the forms companies write them: `no-reply`,
/// `noreply`, `do_not_reply`, `ei-vastausta`, `svara-inte`, `ne-pas-repondre`.
fn is_no_reply(address: &str) -> bool {
    const NO_REPLY: &[&str] = &[
        "noreply",
        "donotreply",
        "dontreply",
        "eivastausta",
        "alavastaa",
        "älävastaa",
        "svarainte",
        "ikkesvar",
        "ikkebesvar",
        "nepasrepondre",
        "nepasrépondre",
        "keineantwort",
        "nichtantworten",
        "noresponder",
        "naoresponda",
        "nãoresponda",
        "nonrispondere",
        "nieodpowiadaj",
        "ärgevasta",
    ];
    let local = address.rsplit_once('@').map_or("", |(local, _)| local);
    let squeezed: String = local
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    NO_REPLY.iter().any(|n| squeezed.starts_with(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse;

    fn envelope(from: &str) -> Envelope {
        Envelope {
            mail_from: from.into(),
            ..Envelope::default()
        }
    }

    #[test]
    fn plain_mail_is_human_even_with_outlook_suppress_header() {
        let m =
            parse(b"From: a@b.fi\r\nX-Auto-Response-Suppress: All\r\nSubject: Hei\r\n\r\nx\r\n");
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::Human);
    }

    #[test]
    fn auto_submitted_and_localised_subjects_are_auto() {
        let m = parse(b"From: a@b.fi\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\nx\r\n");
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::AutoReply);
        let m =
            parse("From: a@b.fi\r\nSubject: Automaattinen vastaus: Lasku\r\n\r\nx\r\n".as_bytes());
        assert_eq!(classify(&m, &envelope("a@b.fi")), Class::AutoReply);
    }

    #[test]
    fn helpdesk_acknowledgement_subjects_are_read_only_from_companies() {
        for subject in [
            "Olemme vastaanottaneet viestisi [#123456]",
            "[Request received] Re: Palaute",
            "Vi har mottagit ditt meddelande (ärende 42)",
            "Oleme kätte saanud teie kirja",
            "Lomalla: Palaute: Lasku tuli kahdesti",
            "Re: Poissaolo - Palaute",
            "Palaute: Lasku tuli kahdesti [Automaattinen vastaus]",
        ] {
            assert_eq!(company_subject(subject), Said::Automatic, "{subject}");
        }
        // Found from outside: the consumer's title is in every subject of the thread, and
        // it opened the new feedback too.
        for subject in [
            "RE: Palaute: Vi har mottagit två fakturor",
            "Re: Palaute: Your request has been ignored for weeks",
            "SV: Palaute: Thank you for contacting us, they said",
            "Re: Palaute: Lomalla matkalaukku katosi",
        ] {
            assert_eq!(company_subject(subject), Said::Answer, "{subject}");
        }
        for subject in [
            "[Elisa] Vi har mottagit två fakturor",
            "Vi har mottagit två fakturor",
            "Lomalla: matkalaukku katosi",
            "Thank you for contacting us was all they said",
        ] {
            let m = parse(format!("From: a@b.fi\r\nSubject: {subject}\r\n\r\nx\r\n").as_bytes());
            assert_eq!(classify(&m, &envelope("a@b.fi")), Class::Human, "{subject}");
        }
    }

    /// Issue 18: out-of-office subjects in the languages mail clients ship, behind their reply
    /// prefixes, and mailboxes no one reads.
    #[test]
    fn out_of_office_subjects_and_no_reply_senders_are_automatic() {
        for subject in [
            "Automatische Antwort: Palaute: Lasku",
            "Réponse automatique : Palaute: Lasku",
            "Automatisch antwoord: Palaute: Lasku",
            "Automatisk svar: Palaute: Lasku",
            "SV: Automatiskt svar: Palaute",
            "Автоматический ответ: Palaute: Lasku",
            "Respuesta automática: Palaute: Lasku",
            "Risposta automatica: Palaute: Lasku",
            "Odpowiedź automatyczna: Palaute: Lasku",
            "Resposta automática: Palaute: Lasku",
            "Automaatne vastus: Palaute: Lasku",
            "AW: Abwesenheitsnotiz",
        ] {
            let m = parse(format!("From: a@b.fi\r\nSubject: {subject}\r\n\r\nx\r\n").as_bytes());
            assert_eq!(
                classify(&m, &envelope("a@b.fi")),
                Class::AutoReply,
                "{subject}"
            );
        }
        for sender in [
            "no-reply@elisa.example",
            "noreply.asiakaspalvelu@x.fi",
            "Do_Not_Reply@x.fi",
            "ei-vastausta@x.fi",
            "svara-inte@x.se",
            "ne-pas-repondre@x.fr",
        ] {
            let m =
                parse(format!("From: {sender}\r\nSubject: Re: Palaute\r\n\r\nx\r\n").as_bytes());
            assert_eq!(
                classify(&m, &envelope(sender)),
                Class::AutoReply,
                "{sender}"
            );
        }
        let m = parse(b"From: noora@x.fi\r\nSubject: Re: Palaute: Poissaolo\r\n\r\nx\r\n");
        assert_eq!(classify(&m, &envelope("noora@x.fi")), Class::Human);
    }

    /// Issue 18: helpdesk acknowledgements say the message arrived and name a ticket or
    /// promise a later answer; a real answer that names a ticket or says something was done is
    /// still an answer.
    #[test]
    fn helpdesk_acknowledgements_are_told_from_answers() {
        for ack in [
            "Your request (48213) has been received and is being reviewed by our support staff.\n\nTo add additional comments, reply to this email.",
            "Dear Matti,\n\nWe would like to acknowledge that we have received your request and a ticket has been created with Ticket ID - 4821.",
            "Incident INC0010023 has been opened on your behalf.",
            "Hei Matti,\n\nolemme vastaanottaneet viestisi. Tapausnumerosi on 00001234.",
            "Hej,\n\nvi har tagit emot ditt meddelande och återkommer så snart vi kan.",
            "Wir haben Ihre Anfrage erhalten und melden uns in Kürze.",
            "Nous avons bien reçu votre message et reviendrons vers vous rapidement.",
            "Hemos recibido tu solicitud. Tu número de caso es 12345.",
            "Мы получили ваше обращение и свяжемся с вами в ближайшее время.",
            "Your request SUP-42 has been received. We'll get back to you soon.",
            "Olen lomalla 7.–18.12.",
        ] {
            assert_eq!(company_text(ack), Said::Receipt, "{ack}");
        }
        // Found from outside: they say so themselves.
        for automatic in [
            "Tämä on automaattinen vastaus. Asiakaspalvelumme käsittelee viestisi mahdollisimman pian. Tapausnumerosi on 123456.",
            "Kiitos, saimme viestisi. Tämä on automaattinen viesti, älä vastaa tähän.",
            "Detta är ett automatiskt svar. Ärendenummer: 123456",
            "Thanks for reaching out! This is an automated response: your ticket 123456 is in the queue.",
        ] {
            assert_eq!(company_text(automatic), Said::Automatic, "{automatic}");
        }
        // Found from outside: real answers that also say the message arrived, name a ticket
        // or a postcode, or promise more.
        for answer in [
            "Hei Matti,\n\npalautamme toisen veloituksen tällä viikolla. Hyvityslasku on luotu (#12345).\n\nAnna",
            "Hej,\n\nvi har tagit emot returen och betalar tillbaka beloppet.",
            "Olemme vastaanottaneet palautteesi ja korjaamme laskun: veloitus palautetaan tilillesi.",
            "We received your parcel back; the refund for order #12345 is on its way.",
            "Hei,\n\nolemme vastaanottaneet palautteesi ja tarkistaneet laskusi: toinen veloitus on hyvitetty. Vastaamme mielellämme, jos kysyttävää jää.",
            "Hello,\n\nwe have received your complaint and refunded the second charge today (ticket #4711 is now closed).",
            "Hei,\n\nviestisi on vastaanotettu ja käsitelty: hyvitimme toisen laskun.\n\nElisa Oyj, PL 1, FI-00061 ELISA",
            "Hej,\n\nvi har mottagit din faktura-reklamation och krediterat den dubbla debiteringen. Har du fler frågor återkommer vi gärna.",
        ] {
            assert_eq!(company_text(answer), Said::Answer, "{answer}");
        }
    }

    #[test]
    fn dsn_with_null_sender_is_a_bounce() {
        let m = parse(b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n");
        assert_eq!(classify(&m, &envelope("")), Class::Bounce);
    }
}
