//! Email: rendering (`message`), the SMTP connection (`transport`) and the delivery worker
//! (`outbox_worker`), the only code that speaks SMTP.

pub mod digest;
pub mod message;
pub mod outbox_worker;
pub mod transport;
