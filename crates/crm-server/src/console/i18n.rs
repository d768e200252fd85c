//! The console's one catalogue of strings, in English and French (the seed products are
//! French). A page asks [`Lang::t`] for a [`Msg`]; the language comes from the browser's
//! `Accept-Language`. A string missing in one language is a compile error (one `match`).

use axum::http::{HeaderMap, header};

/// A language of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// French.
    Fr,
}

impl Lang {
    /// The first of the browser's languages the console speaks (English otherwise).
    pub fn of(headers: &HeaderMap) -> Self {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut ranked: Vec<(f32, &str)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked
            .iter()
            .find_map(|(_, tag)| {
                let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
                match primary.as_str() {
                    "fr" => Some(Lang::Fr),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            })
            .unwrap_or(Lang::En)
    }

    /// The language of a code (`fr`, `en`), if the console speaks it.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.to_ascii_lowercase().as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` attribute of a page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The text of `msg`.
    #[allow(clippy::too_many_lines)] // one catalogue, read side by side
    pub fn t(self, msg: Msg) -> &'static str {
        use Msg::*;
        let (en, fr) = match msg {
            AppName => ("Agent console", "Console agent"),
            SignIn => ("Sign in", "Se connecter"),
            SignOut => ("Sign out", "Se déconnecter"),
            Email => ("Email", "Adresse e-mail"),
            Password => ("Password", "Mot de passe"),
            WrongCredentials => ("Wrong email or password.", "Adresse ou mot de passe incorrect."),
            TooManyAttempts => (
                "Too many failed attempts: try again in a few minutes.",
                "Trop d'échecs : réessayez dans quelques minutes.",
            ),
            Forged => (
                "This form expired or did not come from the console. Reload the page and try again.",
                "Ce formulaire a expiré ou ne vient pas de la console. Rechargez la page et réessayez.",
            ),
            Refused => ("The request was refused.", "La demande a été refusée."),
            Unavailable => ("The service is unavailable; try again.", "Le service est indisponible ; réessayez."),
            Home => ("Home", "Accueil"),
            IncomingCall => ("Incoming call", "Appel entrant"),
            WaitingForCalls => ("Waiting for calls…", "En attente d'appels…"),
            NewCaller => ("New caller: a card was created.", "Nouvel appelant : une fiche a été créée."),
            Search => ("Search customers", "Rechercher un client"),
            SearchHint => ("Name, phone, email or account", "Nom, téléphone, e-mail ou compte"),
            NoResults => ("No customer matches.", "Aucun client ne correspond."),
            Customer => ("Customer", "Client"),
            Account => ("Account", "Compte"),
            Identities => ("Identities", "Identités"),
            OpenCases => ("Open cases", "Dossiers ouverts"),
            NoOpenCases => ("No open case.", "Aucun dossier ouvert."),
            Tasks => ("Tasks", "Tâches"),
            NoTasks => ("No planned task.", "Aucune tâche prévue."),
            LastInteractions => ("Last interactions", "Dernières interactions"),
            NoInteractions => ("No interaction yet.", "Aucune interaction."),
            Alerts => ("Alerts", "Alertes"),
            OpenCard => ("Open the card", "Ouvrir la fiche"),
            Name => ("Name", "Nom"),
            Save => ("Save", "Enregistrer"),
            Saved => ("Saved.", "Enregistré."),
            Conflict => (
                "Someone changed this record since you opened it: your change was not saved. The current values are shown.",
                "Quelqu'un a modifié cet enregistrement depuis son ouverture : votre modification n'a pas été enregistrée. Les valeurs actuelles sont affichées.",
            ),
            NewCase => ("New case", "Nouveau dossier"),
            Subject => ("Subject", "Objet"),
            Priority => ("Priority", "Priorité"),
            Create => ("Create", "Créer"),
            Case => ("Case", "Dossier"),
            Status => ("Status", "Statut"),
            Updated => ("Updated", "Modifié"),
            FollowUps => ("Follow-ups", "Suivis"),
            NoFollowUps => ("No follow-up yet.", "Aucun suivi."),
            AddFollowUp => ("Add a follow-up", "Ajouter un suivi"),
            Text => ("Text", "Texte"),
            Add => ("Add", "Ajouter"),
            Lifecycle => ("Change the status", "Changer le statut"),
            NoTransition => ("No change of status is possible.", "Aucun changement de statut possible."),
            BackToCard => ("Back to the card", "Retour à la fiche"),
            NotFound => ("Not found.", "Introuvable."),
            Forbidden => ("You may not do this.", "Vous ne pouvez pas faire cela."),
            Invalid => ("Some values were refused:", "Certaines valeurs ont été refusées :"),
            StatusDraft => ("Draft", "Brouillon"),
            StatusOpen => ("Open", "Ouvert"),
            StatusPending => ("Pending", "En attente"),
            StatusOnHold => ("On hold", "Suspendu"),
            StatusResolved => ("Resolved", "Résolu"),
            StatusClosed => ("Closed", "Clos"),
            PriorityLow => ("Low", "Basse"),
            PriorityNormal => ("Normal", "Normale"),
            PriorityHigh => ("High", "Haute"),
            PriorityUrgent => ("Urgent", "Urgente"),
            Shortcuts => {
                ("Press / to search, ? for every shortcut", "Appuyez sur / pour rechercher, ? pour tous les raccourcis")
            }
            Outbox => ("Outbox", "File d'envoi"),
            DeadLetters => (
                "Pushes to external CRMs that ran out of retries.",
                "Envois vers les CRM externes qui ont épuisé leurs tentatives.",
            ),
            NoDeadLetters => ("No dead push.", "Aucun envoi en échec."),
            When => ("When", "Quand"),
            Topic => ("Topic", "Sujet"),
            Attempts => ("Attempts", "Tentatives"),
            LastError => ("Last error", "Dernière erreur"),
            Requeue => ("Requeue", "Relancer"),
            Duplicates => ("Possible duplicates", "Doublons possibles"),
            NoDuplicates => ("No likely duplicate.", "Aucun doublon probable."),
            Loading => ("Loading…", "Chargement…"),
            MergePreview => ("Compare and merge", "Comparer et fusionner"),
            MergeTitle => ("Merge two cards", "Fusionner deux fiches"),
            MergeExplain => (
                "Nothing is changed until you confirm. A merge can be undone as long as the kept card was not edited since.",
                "Rien n'est modifié avant votre confirmation. Une fusion peut être annulée tant que la fiche conservée n'a pas été modifiée depuis.",
            ),
            MergeKept => ("Card kept", "Fiche conservée"),
            MergeGone => ("Card merged into it", "Fiche fusionnée dans celle-ci"),
            MergeMoves => ("Moves to the kept card:", "Passe sur la fiche conservée :"),
            MergeRule => ("When both cards hold a different value", "Quand les deux fiches ont une valeur différente"),
            MergeKeepTarget => ("keep the kept card's value", "garder la valeur de la fiche conservée"),
            MergeKeepSource => ("take the merged card's value", "prendre la valeur de la fiche fusionnée"),
            MergeRecompute => ("Update the preview", "Mettre à jour l'aperçu"),
            MergeResult => ("After the merge", "Après la fusion"),
            MergeNoConflict => ("No conflicting value.", "Aucune valeur en conflit."),
            MergeConflicts => ("Conflicting values", "Valeurs en conflit"),
            Field => ("Field", "Champ"),
            MergeKeptValue => ("Kept", "Conservée"),
            MergeDroppedValue => ("Dropped", "Abandonnée"),
            MergeConfirm => ("Merge", "Fusionner"),
            Cancel => ("Cancel", "Annuler"),
            MergeStale => (
                "One of the cards changed since the preview: nothing was merged. Check the new preview.",
                "Une des fiches a changé depuis l'aperçu : rien n'a été fusionné. Vérifiez le nouvel aperçu.",
            ),
            Merged => ("Merged into this card:", "Fusionnée dans cette fiche :"),
            Undo => ("Undo the merge", "Annuler la fusion"),
            ResolutionCode => ("Resolution", "Résolution"),
            NoResolutionCodes => (
                "No resolution code is defined yet: an administrator adds them before cases can be resolved.",
                "Aucun code de résolution n'est défini : un administrateur doit en ajouter pour résoudre les dossiers.",
            ),
            Cases => ("Cases", "Dossiers"),
            Filters => ("Filters", "Filtres"),
            Any => ("Any", "Tous"),
            Me => ("Me", "Moi"),
            ColNumber => ("Number", "Numéro"),
            ColSeverity => ("Severity", "Gravité"),
            ColAssignee => ("Assignee", "Attribué à"),
            ColGroup => ("Group", "Groupe"),
            ColCreated => ("Created", "Créé"),
            Category => ("Category", "Catégorie"),
            Sla => ("SLA", "SLA"),
            SlaBreached => ("Breached", "Dépassé"),
            SlaWarning => ("Due soon", "Bientôt dû"),
            SlaRunning => ("Running", "En cours"),
            Tag => ("Tag", "Étiquette"),
            Apply => ("Apply", "Appliquer"),
            Reset => ("Reset", "Réinitialiser"),
            NoCases => ("No case matches.", "Aucun dossier ne correspond."),
            NextPage => ("Next page", "Page suivante"),
            Columns => ("Columns", "Colonnes"),
            ColumnsHint => ("Columns shown (saved for you)", "Colonnes affichées (enregistrées pour vous)"),
            KeyTitle => ("Keyboard shortcuts", "Raccourcis clavier"),
            KeySearch => ("Search customers", "Rechercher un client"),
            KeyHome => ("Go to the home page", "Aller à l'accueil"),
            KeyCases => ("Go to the case list", "Aller à la liste des dossiers"),
            KeyHelp => ("Show this help", "Afficher cette aide"),
            KeyClose => ("Close", "Fermer"),
            Agenda => ("Agenda", "Agenda"),
            Overdue => ("Overdue", "En retard"),
            DueNow => ("Due now", "À faire maintenant"),
            Upcoming => ("Upcoming", "À venir"),
            NoOverdue => ("Nothing overdue.", "Rien en retard."),
            NoDue => ("Nothing due now.", "Rien à faire maintenant."),
            NoUpcoming => ("Nothing planned later.", "Rien de prévu plus tard."),
            MoreTasks => ("More tasks are planned later than these.", "D'autres tâches sont prévues après celles-ci."),
            Reminded => ("Reminded", "Rappel envoyé"),
            MarkDone => ("Done", "Terminée"),
            RemindAgainIn => ("Remind me again in", "Me le rappeler dans"),
            Snooze => ("Snooze", "Reporter"),
            KindCall => ("Call", "Appel"),
            KindEmail => ("Email", "E-mail"),
            KindMeeting => ("Meeting", "Rendez-vous"),
            KindChat => ("Chat", "Discussion"),
            KindOther => ("Other", "Autre"),
            Days => ("day", "jour"),
            ReminderDue => ("Reminder:", "Rappel :"),
            Dismiss => ("Dismiss", "Fermer"),
            Notices => ("Notices", "Notifications"),
            KeyAgenda => ("Go to the agenda", "Aller à l'agenda"),
            Interaction => ("Interaction", "Interaction"),
            OpenInteraction => ("Open the interaction", "Ouvrir l'interaction"),
            State => ("State", "État"),
            Channel => ("Channel", "Canal"),
            Queue => ("Queue", "File"),
            Accept => ("Accept", "Accepter"),
            WrapUp => ("Wrap up", "Clôturer l'appel"),
            CompleteWrapUp => ("Finish wrap-up", "Terminer le post-appel"),
            Disposition => ("Disposition", "Qualification"),
            DispositionRequired => ("(required by this queue)", "(obligatoire pour cette file)"),
            NoDispositionCodes => ("No disposition code is defined yet.", "Aucun code de qualification n'est défini."),
            ChooseDisposition => ("Choose…", "Choisir…"),
            ScratchPad => ("Notes (scratch pad)", "Notes (bloc-notes)"),
            AddNote => ("Add the note", "Ajouter la note"),
            NoNotes => ("No note yet.", "Aucune note."),
            CopyToCase => ("Copy into a follow-up of", "Copier en suivi du dossier"),
            Copy => ("Copy", "Copier"),
            Copied => ("The note was copied into the case.", "La note a été copiée dans le dossier."),
            Links => ("Links", "Liens"),
            NoLinks => ("No linked record.", "Aucun enregistrement lié."),
            LinkCase => ("Link a case", "Lier un dossier"),
            Link => ("Link", "Lier"),
            KeyAccept => ("Accept the interaction", "Accepter l'interaction"),
            KeyWrapUp => ("Wrap up (end, then finish wrap-up)", "Clôturer (terminer, puis finir le post-appel)"),
            StateOffered => ("Offered", "Proposée"),
            StateDeclined => ("Declined", "Refusée"),
            StateActive => ("Active", "En cours"),
            StateHeld => ("On hold", "En attente"),
            StateConsulting => ("Consulting", "En consultation"),
            StateConferenced => ("Conference", "En conférence"),
            StateWrapUp => ("Wrap-up", "Post-appel"),
            StateClosed => ("Closed", "Terminée"),
            FixBelow => (
                "Some values were refused: the reason is next to each field.",
                "Certaines valeurs ont été refusées : la raison figure à côté de chaque champ.",
            ),
            Preferences => ("Preferences", "Préférences"),
            Language => ("Language", "Langue"),
            BrowserLanguage => ("The browser's language", "La langue du navigateur"),
            TimeZone => ("Time zone", "Fuseau horaire"),
            TimeZoneHint => (
                "IANA name, such as Europe/Paris; empty: the centre's zone,",
                "Nom IANA, comme Europe/Paris ; vide : le fuseau du centre,",
            ),
            MergeUndone => (
                "The merge was undone: both cards are back as they were.",
                "La fusion a été annulée : les deux fiches sont revenues à leur état antérieur.",
            ),
        };
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }
}

/// Every string of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // each names its English text
pub enum Msg {
    AppName,
    SignIn,
    SignOut,
    Email,
    Password,
    WrongCredentials,
    TooManyAttempts,
    Forged,
    Refused,
    Unavailable,
    Home,
    IncomingCall,
    WaitingForCalls,
    NewCaller,
    Search,
    SearchHint,
    NoResults,
    Customer,
    Account,
    Identities,
    OpenCases,
    NoOpenCases,
    Tasks,
    NoTasks,
    LastInteractions,
    NoInteractions,
    Alerts,
    OpenCard,
    Name,
    Save,
    Saved,
    Conflict,
    NewCase,
    Subject,
    Priority,
    Create,
    Case,
    Status,
    Updated,
    FollowUps,
    NoFollowUps,
    AddFollowUp,
    Text,
    Add,
    Lifecycle,
    NoTransition,
    BackToCard,
    NotFound,
    Forbidden,
    Invalid,
    StatusDraft,
    StatusOpen,
    StatusPending,
    StatusOnHold,
    StatusResolved,
    StatusClosed,
    PriorityLow,
    PriorityNormal,
    PriorityHigh,
    PriorityUrgent,
    Shortcuts,
    Outbox,
    DeadLetters,
    NoDeadLetters,
    When,
    Topic,
    Attempts,
    LastError,
    Requeue,
    Duplicates,
    NoDuplicates,
    Loading,
    MergePreview,
    MergeTitle,
    MergeExplain,
    MergeKept,
    MergeGone,
    MergeMoves,
    MergeRule,
    MergeKeepTarget,
    MergeKeepSource,
    MergeRecompute,
    MergeResult,
    MergeNoConflict,
    MergeConflicts,
    Field,
    MergeKeptValue,
    MergeDroppedValue,
    MergeConfirm,
    Cancel,
    MergeStale,
    Merged,
    Undo,
    MergeUndone,
    KeyTitle,
    KeySearch,
    KeyHome,
    KeyCases,
    KeyHelp,
    KeyClose,
    Cases,
    Filters,
    Any,
    Me,
    ColNumber,
    ColSeverity,
    ColAssignee,
    ColGroup,
    ColCreated,
    Category,
    Sla,
    SlaBreached,
    SlaWarning,
    SlaRunning,
    Tag,
    Apply,
    Reset,
    NoCases,
    NextPage,
    Columns,
    ColumnsHint,
    ResolutionCode,
    NoResolutionCodes,
    Agenda,
    Overdue,
    DueNow,
    Upcoming,
    NoOverdue,
    NoDue,
    NoUpcoming,
    MoreTasks,
    Reminded,
    MarkDone,
    RemindAgainIn,
    Snooze,
    KindCall,
    KindEmail,
    KindMeeting,
    KindChat,
    KindOther,
    Days,
    ReminderDue,
    Dismiss,
    Notices,
    KeyAgenda,
    Interaction,
    OpenInteraction,
    State,
    Channel,
    Queue,
    Accept,
    WrapUp,
    CompleteWrapUp,
    Disposition,
    DispositionRequired,
    NoDispositionCodes,
    ChooseDisposition,
    ScratchPad,
    AddNote,
    NoNotes,
    CopyToCase,
    Copy,
    Copied,
    Links,
    NoLinks,
    LinkCase,
    Link,
    KeyAccept,
    KeyWrapUp,
    StateOffered,
    StateDeclined,
    StateActive,
    StateHeld,
    StateConsulting,
    StateConferenced,
    StateWrapUp,
    StateClosed,
    FixBelow,
    Preferences,
    Language,
    BrowserLanguage,
    TimeZone,
    TimeZoneHint,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_language_follows_accept_language() {
        let of = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
            Lang::of(&h)
        };
        assert_eq!(of("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr);
        assert_eq!(of("de-DE,en;q=0.5,fr;q=0.4"), Lang::En);
        assert_eq!(of("en;q=0.2,fr;q=0.9"), Lang::Fr);
        assert_eq!(of("de"), Lang::En);
        assert_eq!(Lang::of(&HeaderMap::new()), Lang::En);
        assert_eq!(Lang::Fr.t(Msg::SignIn), "Se connecter");
    }
}
