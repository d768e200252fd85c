//! crm-mail
