//! Customers and customer cards (CUS).

mod email;
mod phone;

pub use email::{EmailAddress, MAX_EMAIL_LEN};
pub use phone::{PhoneNumber, Region};
