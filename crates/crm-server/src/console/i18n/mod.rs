//! The console's one catalogue of strings, in English and French (the seed products are
//! French). A page asks [`Lang::t`] for a [`Msg`]; the language comes from the browser's
//! `Accept-Language`. A string missing in one language is a compile error (one `match`).

use axum::http::{HeaderMap, header};

mod msg;

pub use msg::Msg;

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
            Decline => ("Decline", "Refuser"),
            Hold => ("Hold", "Mettre en attente"),
            Resume => ("Resume", "Reprendre"),
            MergeUndone => (
                "The merge was undone: both cards are back as they were.",
                "La fusion a été annulée : les deux fiches sont revenues à leur état antérieur.",
            ),
            Administration => ("Administration", "Administration"),
            AdminAgents => ("Agents", "Agents"),
            AdminGroups => ("Groups", "Groupes"),
            AdminRoles => ("Roles", "Rôles"),
            AdminTokens => ("API tokens", "Jetons d'API"),
            AdminFields => ("Custom fields", "Champs personnalisés"),
            AdminDispositions => ("Disposition codes", "Codes de qualification"),
            AdminTenant => ("Centre settings", "Paramètres du centre"),
            RoleAgent => ("Agent", "Agent"),
            RoleSupervisor => ("Supervisor", "Superviseur"),
            RoleAdministrator => ("Administrator", "Administrateur"),
            Yes => ("Yes", "Oui"),
            No => ("No", "Non"),
            Role => ("Role", "Rôle"),
            Active => ("Active", "Actif"),
            ActiveHint => (
                "Active (an inactive agent can neither sign in nor act)",
                "Actif (un agent inactif ne peut ni se connecter ni agir)",
            ),
            NewAgent => ("New agent", "Nouvel agent"),
            BackToList => ("Back to the list", "Retour à la liste"),
            CustomRole => ("Centre role", "Rôle du centre"),
            NoCustomRole => ("None: the built-in role applies", "Aucun : le rôle intégré s'applique"),
            CustomRoleHint => (
                "A centre role replaces the built-in role's permissions.",
                "Un rôle du centre remplace les permissions du rôle intégré.",
            ),
            NoGroups => ("No group yet.", "Aucun groupe."),
            SetPassword => ("Set the console password", "Définir le mot de passe de la console"),
            PasswordHint => (
                "12 to 128 characters; the agent's open sessions end.",
                "12 à 128 caractères ; les sessions ouvertes de l'agent sont fermées.",
            ),
            MailAddresses => ("Shared mail addresses", "Adresses e-mail partagées"),
            MailAddressesHint => ("One address a line.", "Une adresse par ligne."),
            Members => ("Members", "Membres"),
            NoMembers => ("No member yet.", "Aucun membre."),
            NewGroup => ("New group", "Nouveau groupe"),
            RemoveMember => ("Remove", "Retirer"),
            AddMember => ("Add a member", "Ajouter un membre"),
            DeleteGroup => ("Delete the group", "Supprimer le groupe"),
            DeleteGroupHint => (
                "Refused while the group has members or assigned cases.",
                "Refusé tant que le groupe a des membres ou des dossiers attribués.",
            ),
            Delete => ("Delete", "Supprimer"),
            Description => ("Description", "Description"),
            Permissions => ("Permissions", "Permissions"),
            BuiltIn => ("Built-in", "Intégré"),
            NewRole => ("New role", "Nouveau rôle"),
            DeleteRole => ("Delete the role", "Supprimer le rôle"),
            DeleteRoleHint => ("Refused while an agent holds the role.", "Refusé tant qu'un agent détient ce rôle."),
            Never => ("Never", "Jamais"),
            Days30 => ("In 30 days", "Dans 30 jours"),
            Days90 => ("In 90 days", "Dans 90 jours"),
            Days365 => ("In a year", "Dans un an"),
            TokenCreated => ("Token created:", "Jeton créé :"),
            TokenShownOnce => (
                "Copy it now: it is shown this once and cannot be read again.",
                "Copiez-le maintenant : il n'est affiché qu'une fois et ne pourra plus être lu.",
            ),
            Token => ("Token", "Jeton"),
            NewToken => ("New token", "Nouveau jeton"),
            TokenAgent => ("Acts as", "Agit en tant que"),
            TokenRole => ("Most it grants", "Droits maximaux"),
            TokenRoleHint => ("Never more than the agent's own role.", "Jamais plus que le rôle de l'agent."),
            Label => ("Label", "Libellé"),
            Expires => ("Expires", "Expire"),
            NoTokens => ("No token yet.", "Aucun jeton."),
            LastUsed => ("Last used", "Dernière utilisation"),
            Revoked => ("Revoked", "Révoqué"),
            Expired => ("Expired", "Expiré"),
            Revoke => ("Revoke", "Révoquer"),
            TypeText => ("Text (one line)", "Texte (une ligne)"),
            TypeLongText => ("Long text", "Texte long"),
            TypeInteger => ("Whole number", "Nombre entier"),
            TypeDecimal => ("Decimal number", "Nombre décimal"),
            TypeBoolean => ("Yes or no", "Oui ou non"),
            TypeDate => ("Date", "Date"),
            TypeDatetime => ("Date and time", "Date et heure"),
            TypeSingleChoice => ("One choice", "Choix unique"),
            TypeMultiChoice => ("Several choices", "Choix multiples"),
            TypeEmail => ("Email address", "Adresse e-mail"),
            TypePhone => ("Phone number", "Numéro de téléphone"),
            TypeUrl => ("Web address", "Adresse web"),
            Customers => ("Customers", "Clients"),
            NoFields => ("No field defined.", "Aucun champ défini."),
            Key => ("Key", "Clé"),
            FieldType => ("Type", "Type"),
            Required => ("Required", "Obligatoire"),
            Retired => ("Retired", "Retiré"),
            InUse => ("In use", "En service"),
            NewField => ("New field", "Nouveau champ"),
            FieldOf => ("Field of", "Champ des"),
            Choices => ("Choices", "Choix"),
            ChoicesHint => ("Choice fields only: one choice a line.", "Champs à choix seulement : un choix par ligne."),
            HelpText => ("Help text", "Texte d'aide"),
            Retire => ("Retire", "Retirer du service"),
            RetireHint => (
                "Hidden from forms, takes no new value; the values records carry are kept.",
                "Masqué des formulaires, n'accepte plus de valeur ; les valeurs déjà saisies sont conservées.",
            ),
            BringBack => ("Bring back", "Remettre en service"),
            BringBackHint => ("Shown in forms again.", "De nouveau affiché dans les formulaires."),
            DeleteField => ("Delete the field", "Supprimer le champ"),
            DeleteFieldHint => (
                "Refused while a record carries a value: retire it instead to keep them.",
                "Refusé tant qu'un enregistrement porte une valeur : retirez-le plutôt pour les conserver.",
            ),
            Code => ("Code", "Code"),
            CodeGroup => ("Group", "Groupe"),
            NewCode => ("Add or replace a code", "Ajouter ou remplacer un code"),
            NewCodeHint => (
                "Saving an existing code replaces its label, group and state.",
                "Enregistrer un code existant remplace son libellé, son groupe et son état.",
            ),
            DefaultRegion => ("Default phone region", "Région téléphonique par défaut"),
            DefaultRegionHint => (
                "ISO country code (FR, US): reads numbers written without +.",
                "Code pays ISO (FR, US) : lit les numéros écrits sans +.",
            ),
            TenantZoneHint => (
                "IANA name, such as Europe/Paris: agendas and times of agents without their own zone.",
                "Nom IANA, comme Europe/Paris : agendas et heures des agents sans fuseau propre.",
            ),
            PublicSlug => ("Public search name", "Nom de la recherche publique"),
            PublicSlugHint => (
                "Lower-case letters, digits and hyphens: /public/<name>/… (empty: unchanged).",
                "Minuscules, chiffres et tirets : /public/<nom>/… (vide : inchangé).",
            ),
            Invitation => ("Invitation link", "Lien d'invitation"),
            InvitationHint => (
                "A link the agent opens once, within 72 hours, to choose their password. Creating one replaces the agent's current password.",
                "Un lien que l'agent ouvre une fois, sous 72 heures, pour choisir son mot de passe. En créer un remplace le mot de passe actuel de l'agent.",
            ),
            CreateInvitation => ("Create an invitation link", "Créer un lien d'invitation"),
            InvitationCreated => (
                "Send this link to the agent: it is shown this once.",
                "Envoyez ce lien à l'agent : il n'est affiché qu'une fois.",
            ),
            InvitationLink => ("Link", "Lien"),
            InvitationInvalid => (
                "This invitation link is not valid: it was used, it expired or a newer one was created. Ask an administrator for a new one.",
                "Ce lien d'invitation n'est pas valide : il a servi, il a expiré ou un plus récent a été créé. Demandez-en un nouveau à un administrateur.",
            ),
            ChoosePassword => ("Choose your password", "Choisissez votre mot de passe"),
            ConfirmPassword => ("The same password again", "Le même mot de passe à nouveau"),
            PasswordsDiffer => ("The two passwords differ.", "Les deux mots de passe diffèrent."),
            PasswordChosen => {
                ("Your password is set: sign in with it.", "Votre mot de passe est enregistré : connectez-vous avec.")
            }
            PasswordRules => (
                "12 to 128 characters, at least 5 different ones, not your email address.",
                "12 à 128 caractères, dont au moins 5 différents, pas votre adresse e-mail.",
            ),
            Knowledge => ("Knowledge base", "Base de connaissances"),
            KnowledgeSearch => ("Search the knowledge base", "Rechercher dans la base de connaissances"),
            NoArticles => ("No article matches.", "Aucun article ne correspond."),
            ArticleDraft => ("Draft", "Brouillon"),
            ArticlePublished => ("Published", "Publié"),
            ArticleArchived => ("Archived", "Archivé"),
            Shortcut => ("Shortcut", "Raccourci"),
            Responses => ("Standard responses", "Réponses types"),
            ResponseSearch => ("Search the standard responses", "Rechercher une réponse type"),
            NoResponses => ("No standard response matches.", "Aucune réponse type ne correspond."),
            FavouritesOnly => ("My favourites only", "Mes favoris seulement"),
            Favourite => ("Add to my favourites", "Ajouter à mes favoris"),
            Unfavourite => ("Remove from my favourites", "Retirer de mes favoris"),
            IsFavourite => ("Favourite", "Favori"),
            Preview => ("Preview", "Aperçu"),
            Insert => ("Insert", "Insérer"),
            InsertIntoNotes => ("Insert into the scratch pad", "Insérer dans le bloc-notes"),
            InsertIntoFollowUp => ("Insert into a follow-up", "Insérer dans un suivi"),
            Inserted => (
                "The text is in the field below: check it, then save it.",
                "Le texte est dans le champ ci-dessous : vérifiez-le, puis enregistrez-le.",
            ),
            BackToInteraction => ("Back to the interaction", "Retour à l'interaction"),
            BackToCase => ("Back to the case", "Retour au dossier"),
            Assist => ("Knowledge and responses", "Connaissances et réponses"),
            Find => ("Search", "Rechercher"),
            NavKnowledge => ("Knowledge", "Connaissances"),
            NavResponses => ("Responses", "Réponses"),
            Attachments => ("Attachments", "Pièces jointes"),
            NoAttachments => ("No attachment yet.", "Aucune pièce jointe."),
            Uploaded => ("Attached:", "Pièce jointe ajoutée :"),
            FileName => ("File", "Fichier"),
            FileSize => ("Size", "Taille"),
            AttachedTo => ("Attached to", "Jointe à"),
            AttachTo => ("Attach to", "Joindre à"),
            TheCase => ("The case", "Le dossier"),
            File => ("File to attach", "Fichier à joindre"),
            Upload => ("Attach the file", "Joindre le fichier"),
            Script => ("Script", "Script"),
            ScriptConflict => (
                "This script was answered elsewhere since you read it: your answer was not saved. Its current step is shown.",
                "Ce script a reçu une réponse ailleurs depuis votre lecture : votre réponse n'a pas été enregistrée. L'étape actuelle est affichée.",
            ),
            NoScriptRun => ("No script run in this interaction.", "Aucun script dans cette interaction."),
            NoScripts => ("No published script.", "Aucun script publié."),
            StartScript => ("Run a script", "Dérouler un script"),
            Start => ("Start", "Démarrer"),
            ScriptAnswers => ("Answers so far", "Réponses données"),
            ScriptFinished => ("The script is finished.", "Le script est terminé."),
            Continue => ("Next", "Suivant"),
            Answer => ("Answer", "Répondre"),
            NotifyCustomer => ("Email the customer", "Écrire au client"),
            SeverityInfo => ("For information", "Pour information"),
            SeverityWarning => ("Warning", "Attention"),
            SeverityCritical => ("Critical", "Critique"),
            Suggestion => ("Suggestion:", "Suggestion :"),
            NavCalls => ("Calls", "Appels"),
            CallLists => ("My call lists", "Mes listes d'appels"),
            OutcomeRecorded => ("Outcome recorded:", "Résultat enregistré :"),
            NothingToCall => {
                ("Nobody to call on this list right now.", "Personne à appeler sur cette liste pour l'instant.")
            }
            NoCallLists => {
                ("You are assigned to no active call list.", "Vous n'êtes affecté à aucune liste d'appels active.")
            }
            NextContact => ("Next contact", "Contact suivant"),
            EntryConflict => (
                "This contact changed since you opened it: your outcome was not saved. It is shown as it is now.",
                "Ce contact a changé depuis son ouverture : votre résultat n'a pas été enregistré. Il est affiché tel qu'il est.",
            ),
            Phone => ("Number to call", "Numéro à appeler"),
            LastOutcome => ("Last outcome", "Dernier résultat"),
            Outcome => ("Outcome", "Résultat"),
            CallbackAt => ("Call back at (for a callback)", "Rappeler le (pour un rappel)"),
            CallbackHint => ("Your time zone:", "Votre fuseau horaire :"),
            SameAgent => ("Keep the callback for me", "Me réserver le rappel"),
            RecordOutcome => ("Record the outcome", "Enregistrer le résultat"),
            InsertIntoMail => ("Insert into an email to the customer", "Insérer dans un e-mail au client"),
            MailFrom => ("From", "De"),
            MailTo => ("To", "À"),
            MailCc => ("Cc", "Cc"),
            AddressesHint => ("Addresses separated by commas.", "Adresses séparées par des virgules."),
            SubjectTagHint => ("The case's tag is put in front:", "L'étiquette du dossier est mise devant :"),
            MailBody => ("Message", "Message"),
            AttachFiles => ("Files of the case to attach", "Fichiers du dossier à joindre"),
            AddSignature => ("Add my signature", "Ajouter ma signature"),
            Send => ("Send", "Envoyer"),
            InsertHint => (
                "To insert an article or a standard response, open it from:",
                "Pour insérer un article ou une réponse type, ouvrez-le depuis :",
            ),
        };
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }
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
