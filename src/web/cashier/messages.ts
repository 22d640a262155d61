import type { Lang, OrderStatus } from './i18n.ts';

/**
 * The cashier's strings. Every language is a `Messages` record, so a missing
 * key fails the typecheck instead of showing a consumer a blank.
 */

export type DescribedMethod = 'MX_SPEI' | 'ID_VA' | 'PK_WALLET';

export interface Messages {
  title: string;
  payTo: string;
  amount: string;
  /** The same figure once the order is over (paid, failed, expired…): nothing is left to pay. */
  orderAmount: string;
  payWith: string;
  chooseMethod: string;
  noMethods: string;
  orderNo: string;
  expiresIn: string;
  expired: string;
  paid: string;
  failed: string;
  processing: string;
  copy: string;
  copied: string;
  copyFailed: string;
  openApp: string;
  /** Before a wallet's own words (its request, in the channel's language): what to do, in the page's. */
  approveInWallet: string;
  scanQr: string;
  qrAlt: string;
  orCopyCode: string;
  transferClabe: string;
  vaNumber: string;
  vaBank: string;
  content: string;
  exactAmount: string;
  checkStatus: string;
  returnToMerchant: string;
  cancelPayment: string;
  closePage: string;
  sandboxTitle: string;
  sandboxPay: string;
  sandboxFail: string;
  sandboxException: string;
  testOrder: string;
  testBadge: string;
  /** Pay-in methods whose name is a description, not a brand (brands keep the catalogue's label everywhere). */
  methodNames: Record<DescribedMethod, string>;
  /** The title of a FAILED or EXPIRED order the consumer cancelled. */
  cancelledTitle: string;
  statusTitle: Record<OrderStatus, string>;
  statusDetail: Record<OrderStatus, string>;
}

const en: Messages = {
  title: 'Checkout',
  payTo: 'Pay to',
  amount: 'Amount to pay',
  orderAmount: 'Order amount',
  payWith: 'Pay with',
  chooseMethod: 'Choose a payment method',
  noMethods: 'No payment method is available for this order. Please contact the merchant.',
  orderNo: 'Order number',
  expiresIn: 'Expires in',
  expired: 'Expired',
  paid: 'Paid',
  failed: 'Failed',
  processing: 'Processing…',
  copy: 'Copy',
  copied: 'Copied',
  copyFailed: 'Press and hold the text to copy it',
  openApp: 'Open the app to pay',
  approveInWallet: 'Open your wallet app and approve the payment request waiting there.',
  scanQr: 'Scan the QR code with your banking app',
  qrAlt: 'QR code for this payment',
  orCopyCode: 'Or copy the code',
  transferClabe: 'Transfer to this CLABE',
  vaNumber: 'Virtual account number',
  vaBank: 'Bank',
  content: 'Payment code',
  exactAmount: 'Pay exactly the amount shown, in a single payment.',
  checkStatus: 'I have paid: check the status',
  returnToMerchant: 'Return to the merchant',
  cancelPayment: 'Cancel payment',
  closePage: 'You can close this page.',
  sandboxTitle: 'Sandbox: simulate the outcome',
  sandboxPay: 'Simulate payment',
  sandboxFail: 'Simulate failure',
  sandboxException: 'Simulate exception',
  testOrder: 'This is a test order: no real money moves.',
  testBadge: 'TEST',
  methodNames: { MX_SPEI: 'SPEI bank transfer', ID_VA: 'Bank virtual account', PK_WALLET: 'JazzCash / Easypaisa wallet' },
  cancelledTitle: 'You cancelled this payment',
  statusTitle: {
    CREATED: 'Awaiting payment',
    PENDING: 'Payment in progress',
    PAID: 'Payment received',
    FAILED: 'Payment failed',
    EXPIRED: 'This payment has expired',
    REFUNDED: 'Payment refunded',
    EXCEPTION: 'We are reviewing this payment',
  },
  statusDetail: {
    CREATED: 'Follow the instructions below to pay.',
    PENDING: 'We are waiting for confirmation from your bank.',
    PAID: 'Thank you. The merchant is being told of your payment.',
    FAILED: 'The payment could not be completed. You can start a new one from the merchant.',
    EXPIRED: 'Please do not pay this order any more. Start a new payment from the merchant.',
    REFUNDED: 'The money has been returned to you.',
    EXCEPTION: 'If you already paid, keep your receipt. The merchant will be informed of the result.',
  },
};

const es: Messages = {
  title: 'Pago',
  payTo: 'Pagar a',
  amount: 'Importe a pagar',
  orderAmount: 'Importe del pedido',
  payWith: 'Pagar con',
  chooseMethod: 'Elige un método de pago',
  noMethods: 'No hay métodos de pago disponibles para este pedido. Contacta al comercio.',
  orderNo: 'Número de pedido',
  expiresIn: 'Vence en',
  expired: 'Vencido',
  paid: 'Pagado',
  failed: 'Fallido',
  processing: 'Procesando…',
  copy: 'Copiar',
  copied: 'Copiado',
  copyFailed: 'Mantén pulsado el texto para copiarlo',
  openApp: 'Abrir la app para pagar',
  approveInWallet: 'Abre la app de tu billetera y aprueba la solicitud de pago que te espera allí.',
  scanQr: 'Escanea el código QR con la app de tu banco',
  qrAlt: 'Código QR de este pago',
  orCopyCode: 'O copia el código',
  transferClabe: 'Transfiere a esta CLABE',
  vaNumber: 'Número de cuenta virtual',
  vaBank: 'Banco',
  content: 'Código de pago',
  exactAmount: 'Paga exactamente el importe indicado, en un solo pago.',
  checkStatus: 'Ya pagué: ver el estado',
  returnToMerchant: 'Volver al comercio',
  cancelPayment: 'Cancelar el pago',
  closePage: 'Puedes cerrar esta página.',
  sandboxTitle: 'Sandbox: simula el resultado',
  sandboxPay: 'Simular pago',
  sandboxFail: 'Simular fallo',
  sandboxException: 'Simular excepción',
  testOrder: 'Este es un pedido de prueba: no se mueve dinero real.',
  testBadge: 'PRUEBA',
  methodNames: { MX_SPEI: 'Transferencia SPEI', ID_VA: 'Cuenta virtual bancaria', PK_WALLET: 'Billetera JazzCash / Easypaisa' },
  cancelledTitle: 'Cancelaste este pago',
  statusTitle: {
    CREATED: 'Pendiente de pago',
    PENDING: 'Pago en proceso',
    PAID: 'Pago recibido',
    FAILED: 'El pago falló',
    EXPIRED: 'Este pago ha vencido',
    REFUNDED: 'Pago reembolsado',
    EXCEPTION: 'Estamos revisando este pago',
  },
  statusDetail: {
    CREATED: 'Sigue las instrucciones de abajo para pagar.',
    PENDING: 'Estamos esperando la confirmación de tu banco.',
    PAID: 'Gracias. Estamos avisando al comercio de tu pago.',
    FAILED: 'No se pudo completar el pago. Puedes iniciar uno nuevo desde el comercio.',
    EXPIRED: 'Ya no pagues este pedido. Inicia un nuevo pago desde el comercio.',
    REFUNDED: 'El dinero te fue devuelto.',
    EXCEPTION: 'Si ya pagaste, guarda tu comprobante. El comercio será informado del resultado.',
  },
};

const pt: Messages = {
  title: 'Pagamento',
  payTo: 'Pagar para',
  amount: 'Valor a pagar',
  orderAmount: 'Valor do pedido',
  payWith: 'Pagar com',
  chooseMethod: 'Escolha uma forma de pagamento',
  noMethods: 'Nenhuma forma de pagamento está disponível para este pedido. Fale com a loja.',
  orderNo: 'Número do pedido',
  expiresIn: 'Expira em',
  expired: 'Expirado',
  paid: 'Pago',
  failed: 'Falhou',
  processing: 'Processando…',
  copy: 'Copiar',
  copied: 'Copiado',
  copyFailed: 'Toque e segure o texto para copiá-lo',
  openApp: 'Abrir o app para pagar',
  approveInWallet: 'Abra o app da sua carteira e aprove a solicitação de pagamento que está esperando lá.',
  scanQr: 'Escaneie o QR code com o app do seu banco',
  qrAlt: 'QR code deste pagamento',
  orCopyCode: 'Ou copie o código',
  transferClabe: 'Transfira para esta CLABE',
  vaNumber: 'Número da conta virtual',
  vaBank: 'Banco',
  content: 'Código de pagamento',
  exactAmount: 'Pague exatamente o valor indicado, em um único pagamento.',
  checkStatus: 'Já paguei: verificar o status',
  returnToMerchant: 'Voltar para a loja',
  cancelPayment: 'Cancelar pagamento',
  closePage: 'Você pode fechar esta página.',
  sandboxTitle: 'Sandbox: simule o resultado',
  sandboxPay: 'Simular pagamento',
  sandboxFail: 'Simular falha',
  sandboxException: 'Simular exceção',
  testOrder: 'Este é um pedido de teste: nenhum dinheiro real é movimentado.',
  testBadge: 'TESTE',
  methodNames: { MX_SPEI: 'Transferência SPEI', ID_VA: 'Conta virtual bancária', PK_WALLET: 'Carteira JazzCash / Easypaisa' },
  cancelledTitle: 'Você cancelou este pagamento',
  statusTitle: {
    CREATED: 'Aguardando pagamento',
    PENDING: 'Pagamento em processamento',
    PAID: 'Pagamento recebido',
    FAILED: 'O pagamento falhou',
    EXPIRED: 'Este pagamento expirou',
    REFUNDED: 'Pagamento reembolsado',
    EXCEPTION: 'Estamos analisando este pagamento',
  },
  statusDetail: {
    CREATED: 'Siga as instruções abaixo para pagar.',
    PENDING: 'Estamos aguardando a confirmação do seu banco.',
    PAID: 'Obrigado. Estamos avisando a loja do seu pagamento.',
    FAILED: 'Não foi possível concluir o pagamento. Você pode iniciar um novo pela loja.',
    EXPIRED: 'Não pague mais este pedido. Inicie um novo pagamento pela loja.',
    REFUNDED: 'O dinheiro foi devolvido para você.',
    EXCEPTION: 'Se você já pagou, guarde o comprovante. A loja será informada do resultado.',
  },
};

const id: Messages = {
  title: 'Pembayaran',
  payTo: 'Bayar ke',
  amount: 'Jumlah yang harus dibayar',
  orderAmount: 'Jumlah pesanan',
  payWith: 'Bayar dengan',
  chooseMethod: 'Pilih metode pembayaran',
  noMethods: 'Tidak ada metode pembayaran yang tersedia untuk pesanan ini. Silakan hubungi penjual.',
  orderNo: 'Nomor pesanan',
  expiresIn: 'Berakhir dalam',
  expired: 'Kedaluwarsa',
  paid: 'Lunas',
  failed: 'Gagal',
  processing: 'Memproses…',
  copy: 'Salin',
  copied: 'Disalin',
  copyFailed: 'Tekan dan tahan teks untuk menyalinnya',
  openApp: 'Buka aplikasi untuk membayar',
  approveInWallet: 'Buka aplikasi dompet digital Anda dan setujui permintaan pembayaran yang menunggu di sana.',
  scanQr: 'Pindai kode QR dengan aplikasi bank Anda',
  qrAlt: 'Kode QR untuk pembayaran ini',
  orCopyCode: 'Atau salin kodenya',
  transferClabe: 'Transfer ke CLABE ini',
  vaNumber: 'Nomor virtual account',
  vaBank: 'Bank',
  content: 'Kode pembayaran',
  exactAmount: 'Bayar tepat sesuai jumlah yang tertera, dalam satu kali pembayaran.',
  checkStatus: 'Saya sudah bayar: cek status',
  returnToMerchant: 'Kembali ke penjual',
  cancelPayment: 'Batalkan pembayaran',
  closePage: 'Anda dapat menutup halaman ini.',
  sandboxTitle: 'Sandbox: simulasikan hasilnya',
  sandboxPay: 'Simulasikan pembayaran',
  sandboxFail: 'Simulasikan kegagalan',
  sandboxException: 'Simulasikan pengecualian',
  testOrder: 'Ini adalah pesanan uji coba: tidak ada uang sungguhan yang berpindah.',
  testBadge: 'UJI COBA',
  methodNames: { MX_SPEI: 'Transfer bank SPEI', ID_VA: 'Virtual account bank', PK_WALLET: 'Dompet JazzCash / Easypaisa' },
  cancelledTitle: 'Anda membatalkan pembayaran ini',
  statusTitle: {
    CREATED: 'Menunggu pembayaran',
    PENDING: 'Pembayaran sedang diproses',
    PAID: 'Pembayaran diterima',
    FAILED: 'Pembayaran gagal',
    EXPIRED: 'Pembayaran ini sudah kedaluwarsa',
    REFUNDED: 'Pembayaran dikembalikan',
    EXCEPTION: 'Kami sedang memeriksa pembayaran ini',
  },
  statusDetail: {
    CREATED: 'Ikuti petunjuk di bawah ini untuk membayar.',
    PENDING: 'Kami sedang menunggu konfirmasi dari bank Anda.',
    PAID: 'Terima kasih. Kami sedang memberi tahu penjual tentang pembayaran Anda.',
    FAILED: 'Pembayaran tidak dapat diselesaikan. Anda dapat memulai pembayaran baru dari penjual.',
    EXPIRED: 'Jangan bayar pesanan ini lagi. Mulai pembayaran baru dari penjual.',
    REFUNDED: 'Uang Anda sudah dikembalikan.',
    EXCEPTION: 'Jika Anda sudah membayar, simpan bukti pembayaran. Penjual akan diberi tahu hasilnya.',
  },
};

export const MESSAGES: Readonly<Record<Lang, Messages>> = { en, es, pt, id };
